"""The back-office: every page answers the administrator; viewers are kept out; the event log
is read-only even for a superuser; lists are scoped."""

from __future__ import annotations

import uuid

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from rest_framework.authtoken.models import Token

from licenses.models import CalendarDay, Document, Event, FastTrackDecision, WindowRule
from monitoring import webhooks
from monitoring.models import (
    Alert,
    AlertPreference,
    Digest,
    Flag,
    PasswordResetRequest,
    ScanSettings,
    WebhookAttempt,
    WebhookDelivery,
)

from ..factories import ApplicationFactory, ShipmentFactory, authority, item

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_of_everything(administrator, ganzhou):
    now = timezone.now()
    app = ApplicationFactory(exporter=ganzhou)
    shipment = ShipmentFactory(exporter=ganzhou)
    CalendarDay.objects.create(authority=authority(), date="2026-12-31", kind="holiday", name="x")
    WindowRule.objects.create(authority=authority(), item=item(), window_days=30)
    decision = FastTrackDecision.objects.create(
        authority=authority(),
        announced_on="2026-06-07",
        source="Talks",
        window_days=20,
        effective_from="2026-06-08",
    )
    Document.objects.create(
        application=app,
        kind="contract",
        file="applications/x.pdf",
        filename="x.pdf",
        content_type="application/pdf",
        size=10,
    )
    Event.objects.create(kind="created", application=app, occurred_at=now, recorded_at=now)
    Event.objects.create(kind="created", shipment=shipment, occurred_at=now, recorded_at=now)
    Event.objects.create(
        kind="fast_track_applied", decision=decision, occurred_at=now, recorded_at=now
    )
    flag = Flag.objects.create(application=app, exporter=ganzhou, kind="overdue", raised_at=now)
    Alert.objects.create(flag=flag, recipient="a@example.com", created_at=now, message_id="<x@y>")
    Digest.objects.create(
        user=administrator, local_date="2026-11-29", created_at=now, message_id="<d@y>"
    )
    AlertPreference.objects.create(user=administrator)
    hook = webhooks.webhook_create(
        owner=administrator, url="https://erp.example.com/x", secret="s" * 20, now=now
    )
    delivery = WebhookDelivery.objects.create(
        id=uuid.uuid4(),
        webhook=hook,
        type="application.moved",
        event=Event.objects.filter(application=app).first(),
        occurred_at=now,
        created_at=now,
    )
    WebhookAttempt.objects.create(delivery=delivery, at=now, status_code=500, error="HTTP 500")
    PasswordResetRequest.objects.create(email="a@example.com", language="en", requested_at=now)
    ScanSettings.load()
    Token.objects.create(user=administrator)
    every = IntervalSchedule.objects.create(every=5, period="minutes")
    CrontabSchedule.objects.create(minute="0", hour="*")
    SolarSchedule.objects.create(event="sunrise", latitude=28.8, longitude=114.9)
    ClockedSchedule.objects.create(clocked_time=now)
    PeriodicTask.objects.create(name="demo", task="celery.backend_cleanup", interval=every)
    # django-axes' sign-in records (an administrator unlocks a locked-out user there).
    seen = {"username": "olga_officer", "ip_address": "127.0.0.1", "path_info": "/login/"}
    AccessAttempt.objects.create(**seen, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**seen)
    AccessFailureLog.objects.create(**seen)
    return app


def admin_urls():
    for model in admin.site._registry:
        meta = model._meta
        yield model, f"admin:{meta.app_label}_{meta.model_name}"


def test_every_admin_list_and_change_page_answers_an_administrator(
    client, superuser, one_of_everything
):
    client.force_login(superuser)
    for model, name in admin_urls():
        assert client.get(reverse(f"{name}_changelist")).status_code == 200, name
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"no {name} to open"
        assert client.get(reverse(f"{name}_change", args=[obj.pk])).status_code == 200, name


def test_the_administrator_role_reaches_every_list(client, administrator, one_of_everything):
    client.force_login(administrator)
    for _model, name in admin_urls():
        assert client.get(reverse(f"{name}_changelist")).status_code == 200, name


def test_a_viewer_is_kept_out_of_the_back_office(client, viewer, one_of_everything):
    client.force_login(viewer)
    for _model, name in admin_urls():
        response = client.get(reverse(f"{name}_changelist"))
        assert response.status_code in (302, 403), name
        if response.status_code == 302:
            assert reverse("admin:login") in response["Location"]


def test_an_officer_cannot_edit_reference_data_or_users(client, officer, one_of_everything):
    client.force_login(officer)
    assert client.get(reverse("admin:licenses_authority_add")).status_code == 403
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert client.get(reverse("admin:licenses_windowrule_add")).status_code == 403
    assert client.get(reverse("admin:licenses_licenseapplication_add")).status_code == 200


def test_events_cannot_be_added_changed_or_deleted_even_by_a_superuser(
    client, superuser, one_of_everything
):
    client.force_login(superuser)
    event = Event.objects.first()
    assert client.get(reverse("admin:licenses_event_add")).status_code == 403
    assert client.get(reverse("admin:licenses_event_delete", args=[event.pk])).status_code == 403
    response = client.post(
        reverse("admin:licenses_event_change", args=[event.pk]), {"note": "rewritten"}
    )
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.note == ""


def test_state_fields_are_read_only_in_the_admin(client, superuser, one_of_everything):
    client.force_login(superuser)
    page = client.get(
        reverse("admin:licenses_licenseapplication_change", args=[one_of_everything.pk])
    )
    form = page.context["adminform"].form
    assert "status" not in form.fields
    assert "due_at" not in form.fields


def test_an_admin_list_is_scoped_for_a_limited_user(client, limited, baotou, one_of_everything):
    theirs = ApplicationFactory(exporter=baotou)
    client.force_login(limited)
    page = client.get(reverse("admin:licenses_licenseapplication_changelist"))
    assert page.status_code == 200
    refs = [a.reference for a in page.context["cl"].result_list]
    assert one_of_everything.reference in refs
    assert theirs.reference not in refs
    assert (
        client.get(
            reverse("admin:licenses_licenseapplication_change", args=[theirs.pk])
        ).status_code
        == 302
    )  # Django admin redirects an unknown object to the index


class TestMovesFromTheAdmin:
    def test_an_officer_submits_and_approves_through_the_services(self, client, officer):
        app = ApplicationFactory()
        client.force_login(officer)
        change = client.get(reverse("admin:licenses_licenseapplication_change", args=[app.pk]))
        assert b"/move/submit/" in change.content and b"/move/approve/" not in change.content
        url = reverse("admin:licenses_licenseapplication_move", args=[app.pk, "submit"])
        response = client.post(url, {"at": "2026-09-01T10:00", "note": "filed online"})
        assert response.status_code == 302
        app.refresh_from_db()
        assert app.status == "submitted" and app.due_at is not None
        event = app.events.get(kind="status_changed")
        assert event.actor == officer and event.note == "filed online"
        client.post(reverse("admin:licenses_licenseapplication_move", args=[app.pk, "accept"]), {})
        approve = reverse("admin:licenses_licenseapplication_move", args=[app.pk, "approve"])
        page = client.post(approve, {"license_number": "", "valid_until": ""})
        assert page.status_code == 200 and page.context["form"].errors
        client.post(approve, {"license_number": "L-7", "valid_until": "2027-11-30"})
        app.refresh_from_db()
        assert app.status == "approved" and app.license_number == "L-7"

    def test_an_illegal_or_future_move_is_refused_with_a_message(self, client, officer):
        app = ApplicationFactory()
        client.force_login(officer)
        url = reverse("admin:licenses_licenseapplication_move", args=[app.pk, "approve"])
        response = client.get(url, follow=True)
        assert "not possible" in str(next(iter(response.context["messages"])))
        submit = reverse("admin:licenses_licenseapplication_move", args=[app.pk, "submit"])
        page = client.post(submit, {"at": "2099-01-01T10:00"})
        assert page.status_code == 200 and "at" in page.context["form"].errors
        app.refresh_from_db()
        assert app.status == "draft"

    def test_a_viewer_cannot_move(self, client, viewer):
        app = ApplicationFactory()
        viewer.is_staff = True
        viewer.save()
        client.force_login(viewer)
        url = reverse("admin:licenses_licenseapplication_move", args=[app.pk, "submit"])
        assert client.post(url, {}).status_code == 403

    def test_a_correction_from_the_admin(self, client, officer):
        app = ApplicationFactory()
        client.force_login(officer)
        client.post(reverse("admin:licenses_licenseapplication_move", args=[app.pk, "submit"]), {})
        url = reverse("admin:licenses_licenseapplication_move", args=[app.pk, "correct"])
        client.post(url, {"undo": "on", "note": "wrong application"})
        app.refresh_from_db()
        assert app.status == "draft" and app.events.filter(kind="correction").exists()

    def test_a_shipment_created_in_the_admin_follows_and_reserves(self, client, officer, ganzhou):
        app = ApplicationFactory(exporter=ganzhou, license_type="general")
        client.force_login(officer)
        response = client.post(
            reverse("admin:shipments_shipment_add"),
            {
                "exporter": ganzhou.pk,
                "reference": "ADM-1",
                "item": item().pk,
                "quantity": "10",
                "value": "100",
                "currency": "USD",
                "destination": "DE",
                "planned_ship_date": "2026-12-24",
                "application": app.pk,
                "events-TOTAL_FORMS": 0,
                "events-INITIAL_FORMS": 0,
            },
        )
        assert response.status_code == 302, response.content[:2000]
        app.refresh_from_db()
        assert app.drawn_quantity == 10
        from shipments.models import Shipment

        shipment = Shipment.objects.get(reference="ADM-1")
        assert shipment.events.filter(kind="created").exists()
        ship = reverse("admin:shipments_shipment_move", args=[shipment.pk, "hold"])
        client.post(ship, {})
        shipment.refresh_from_db()
        assert shipment.status == "on_hold"
