"""License applications in the back-office: added, edited and moved through the services,
refused with the services' messages on the fields, and never half-saved."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.errors import InvalidInput
from licenses import services
from licenses.models import Event, EventKind, LicenseApplication

from ..factories import ApplicationFactory, authority, item
from ..helpers import NOW, submitted
from .forms import (
    field_errors,
    non_field_errors,
    page_messages,
    post_action,
    post_add,
    post_change,
)

pytestmark = pytest.mark.django_db


def new_application(ganzhou, **changes):
    fields = {
        "exporter": ganzhou.pk,
        "authority": authority().pk,
        "license_type": "individual",
        "items": [item().pk],
        "destination": "DE",
        "reference": "ADM-APP-1",
        "authority_reference": "",
        "quantity": "500",
        "value": "120000",
        "currency": "USD",
    }
    fields.update(changes)
    return fields


def test_an_application_added_in_the_admin_is_created_by_the_service(client, officer, ganzhou):
    client.force_login(officer)
    response = post_add(client, LicenseApplication, **new_application(ganzhou))
    assert response.status_code == 302
    app = LicenseApplication.objects.get(reference="ADM-APP-1")
    assert app.status == "draft" and list(app.items.all()) == [item()]
    created = app.events.get(kind=EventKind.CREATED)
    assert created.actor == officer and created.to_status == "draft"


def test_an_application_with_an_item_of_another_authority_is_refused_on_the_items(
    client, officer, ganzhou
):
    other = authority("BIS").items.create(code="3A001", description="Electronics")
    client.force_login(officer)
    page = post_add(client, LicenseApplication, **new_application(ganzhou, items=[other.pk]))
    assert field_errors(page, "items") == ["An item belongs to another authority's list."]
    assert "Every item must be on the authority's control list." in non_field_errors(page)
    assert not LicenseApplication.objects.exists()
    assert not Event.objects.exists()


def test_editing_a_draft_in_the_admin_records_the_services_edited_event(client, officer):
    app = ApplicationFactory(destination="DE")
    client.force_login(officer)
    response = post_change(client, app, destination="US")
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.destination == "US"
    event = app.events.get(kind=EventKind.EDITED)
    assert event.data == {"edited": {"destination": ["DE", "US"]}}
    assert event.actor == officer


def test_a_draft_edited_in_the_admin_shows_in_the_applications_timeline(client, officer):
    app = ApplicationFactory(destination="DE")
    client.force_login(officer)
    post_change(client, app, destination="US")
    page = client.get(reverse("application-detail", args=[app.pk]))
    assert page.status_code == 200
    assert "destination: DE → US" in page.content.decode()


def test_editing_a_submitted_applications_destination_is_refused_like_the_web_form(client, officer):
    app = submitted(ApplicationFactory(destination="DE"), "2026-11-02")
    client.force_login(officer)
    page = post_change(client, app, destination="US")
    assert field_errors(page, "destination") == ["Fixed once the application is submitted."]
    # the words the web form and the API answer with: the service's
    with pytest.raises(InvalidInput) as refused:
        services.application_update(application=app, now=NOW, actor=officer, destination="US")
    assert refused.value.fields == {"destination": "Fixed once the application is submitted."}
    assert refused.value.message in non_field_errors(page)
    app.refresh_from_db()
    assert app.destination == "DE" and app.status == "submitted"
    assert not app.events.filter(kind=EventKind.EDITED).exists()


def test_a_submitted_applications_quantity_can_still_be_edited_in_the_admin(client, officer):
    app = submitted(ApplicationFactory(), "2026-11-02")
    client.force_login(officer)
    assert post_change(client, app, quantity="450").status_code == 302
    app.refresh_from_db()
    assert app.quantity == 450
    event = app.events.get(kind=EventKind.EDITED)
    assert event.data == {"edited": {"quantity": ["500.000", "450"]}}


def test_a_duplicate_case_number_is_refused_on_its_field_and_nothing_changes(client, officer):
    taken = submitted(ApplicationFactory(authority_reference="MOF-1"), "2026-11-02")
    app = submitted(ApplicationFactory(authority_reference=None), "2026-11-02")
    client.force_login(officer)
    page = post_change(client, app, authority_reference="MOF-1", quantity="450")
    assert field_errors(page, "authority_reference") == ["Already used at this authority."]
    app.refresh_from_db()
    assert not app.authority_reference and app.quantity == 500
    assert taken.authority_reference == "MOF-1"
    assert not Event.objects.filter(kind=EventKind.EDITED).exists()


def test_state_fields_cannot_be_posted_even_by_a_superuser(client, superuser):
    app = ApplicationFactory()
    client.force_login(superuser)
    page = client.get(reverse("admin:licenses_licenseapplication_change", args=[app.pk]))
    form = page.context["adminform"].form
    state = {
        "status",
        "submitted_at",
        "accepted_at",
        "due_at",
        "decided_at",
        "license_number",
        "valid_until",
        "approved_quantity",
        "approved_value",
        "drawn_quantity",
        "drawn_value",
        "window_days",
        "last_moved_at",
    }
    assert not state & set(form.fields)
    response = post_change(client, app, status="approved", license_number="L-1", drawn_quantity="9")
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.status == "draft" and app.license_number == "" and app.drawn_quantity == 0


class TestActions:
    def test_submitting_drafts_from_the_list_goes_through_the_service(self, client, officer):
        app = ApplicationFactory()
        client.force_login(officer)
        page = post_action(client, LicenseApplication, "submit_selected", [app])
        assert "1 applications moved." in page_messages(page)
        app.refresh_from_db()
        assert app.status == "submitted" and app.due_at is not None
        assert app.events.get(kind=EventKind.STATUS_CHANGED).actor == officer

    def test_submitting_a_draft_without_items_is_refused_with_the_services_message(
        self, client, officer
    ):
        app = ApplicationFactory(items=[])
        client.force_login(officer)
        page = post_action(client, LicenseApplication, "submit_selected", [app])
        assert f"{app}: Name at least one controlled item before submitting." in (
            page_messages(page)
        )
        app.refresh_from_db()
        assert app.status == "draft"
        assert not app.events.exists()

    def test_withdrawing_from_the_list_goes_through_the_service(self, client, officer):
        app = submitted(ApplicationFactory(), "2026-11-02")
        client.force_login(officer)
        post_action(client, LicenseApplication, "withdraw_selected", [app])
        app.refresh_from_db()
        assert app.status == "withdrawn"
        assert app.events.filter(kind=EventKind.STATUS_CHANGED, to_status="withdrawn").exists()

    def test_withdrawing_a_draft_is_refused_and_changes_nothing(self, client, officer):
        app = ApplicationFactory()
        client.force_login(officer)
        page = post_action(client, LicenseApplication, "withdraw_selected", [app])
        assert (
            f"{app}: “Withdraw” is not possible now: the application is still a draft."
            in page_messages(page)
        )
        app.refresh_from_db()
        assert app.status == "draft"
