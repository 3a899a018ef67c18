"""Authorities, calendars, controlled items and exporters in the back-office. An authority's
window and its calendar are inputs of due dates: changing them in the admin recomputes the
pending applications at once. Exporters are saved through their service."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import InvalidInput
from licenses.authorities import controlled_item_create
from licenses.models import Authority, CalendarDay, ControlledItem, EventKind, Exporter

from ..factories import ApplicationFactory, ExporterFactory, authority, item
from ..helpers import accepted, submitted
from .forms import field_errors, post_add, post_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending():
    """Accepted: its due date counts the authority's review window."""
    return accepted(submitted(ApplicationFactory(), "2026-11-02"), "2026-11-04")


def due(app):
    app.refresh_from_db()
    return app.due_at


class TestAuthorities:
    def test_adding_an_authority(self, client, administrator):
        client.force_login(administrator)
        response = post_add(
            client,
            Authority,
            code="KATS",
            name="Korea Strategic Trade Institute",
            country="KR",
            time_zone="Asia/Seoul",
            calendar_country="KR",
            window_days="15",
            **{"calendar_days-TOTAL_FORMS": "0", "calendar_days-INITIAL_FORMS": "0"},
        )
        assert response.status_code == 302
        assert Authority.objects.get(code="KATS").time_zone == "Asia/Seoul"

    def test_an_authority_with_an_unknown_time_zone_is_refused_on_the_field(
        self, client, administrator
    ):
        client.force_login(administrator)
        page = post_add(
            client,
            Authority,
            code="KATS",
            name="Korea Strategic Trade Institute",
            country="KR",
            time_zone="Asia/Atlantis",
            calendar_country="KR",
            window_days="15",
            **{"calendar_days-TOTAL_FORMS": "0", "calendar_days-INITIAL_FORMS": "0"},
        )
        assert field_errors(page, "time_zone") == ["Unknown time zone."]
        assert not Authority.objects.filter(code="KATS").exists()

    def test_changing_an_authoritys_window_recomputes_its_pending_due_dates(
        self, client, administrator, pending
    ):
        before = due(pending)
        client.force_login(administrator)
        response = post_change(client, authority(), window_days="20")
        assert response.status_code == 302
        assert due(pending) < before
        event = pending.events.filter(kind=EventKind.DUE_DATE_CHANGED).latest("id")
        assert event.data["window_days"] == 20

    def test_a_refused_authority_change_leaves_its_due_dates_alone(
        self, client, administrator, pending
    ):
        before = due(pending)
        client.force_login(administrator)
        page = post_change(client, authority(), window_days="20", time_zone="Asia/Atlantis")
        assert field_errors(page, "time_zone") == ["Unknown time zone."]
        assert authority().window_days == 45 and authority().time_zone == "Asia/Shanghai"
        assert due(pending) == before


class TestCalendarDays:
    def test_adding_a_holiday_moves_the_pending_due_dates(self, client, administrator, pending):
        before = due(pending)
        client.force_login(administrator)
        response = post_add(
            client,
            CalendarDay,
            authority=authority().pk,
            date="2026-11-10",
            kind="holiday",
            name="Closure",
        )
        assert response.status_code == 302
        assert (due(pending) - before).days == 1

    def test_a_second_entry_for_the_same_day_is_refused(self, client, administrator, pending):
        CalendarDay.objects.create(authority=authority(), date="2026-11-10", kind="holiday")
        before = due(pending)
        client.force_login(administrator)
        page = post_add(
            client, CalendarDay, authority=authority().pk, date="2026-11-10", kind="workday"
        )
        assert page.status_code == 200 and page.context["adminform"].form.errors
        assert CalendarDay.objects.get(authority=authority(), date="2026-11-10").kind == "holiday"
        assert due(pending) == before

    def test_changing_a_day_recomputes_the_pending_due_dates(self, client, administrator, pending):
        day = CalendarDay.objects.create(authority=authority(), date="2026-11-14", kind="holiday")
        before = due(pending)  # a Saturday: no change
        client.force_login(administrator)
        assert post_change(client, day, date="2026-11-10").status_code == 302
        assert (due(pending) - before).days == 1

    def test_a_day_of_an_unknown_kind_is_refused(self, client, administrator, pending):
        day = CalendarDay.objects.create(authority=authority(), date="2026-11-14", kind="holiday")
        client.force_login(administrator)
        page = post_change(client, day, kind="festival", date="2026-11-10")
        assert field_errors(page, "kind")
        day.refresh_from_db()
        assert day.kind == "holiday" and str(day.date) == "2026-11-14"


class TestControlledItems:
    def test_adding_and_changing_an_item(self, client, administrator):
        client.force_login(administrator)
        response = post_add(
            client,
            ControlledItem,
            authority=authority().pk,
            code="1C999",
            description="Samarium",
            unit="kg",
        )
        assert response.status_code == 302
        new = ControlledItem.objects.get(code="1C999")
        assert post_change(client, new, description="Samarium alloys").status_code == 302
        new.refresh_from_db()
        assert new.description == "Samarium alloys"

    def test_an_item_without_a_description_is_refused(self, client, administrator):
        client.force_login(administrator)
        page = post_change(client, item(), description="")
        assert field_errors(page, "description")
        assert item().description

    def test_a_code_already_on_the_authoritys_list_is_refused(self, client, administrator):
        client.force_login(administrator)
        existing = item()
        page = post_add(
            client,
            ControlledItem,
            authority=existing.authority_id,
            code=existing.code,
            description="Another samarium entry",
            unit="kg",
        )
        assert page.status_code == 200, "the form is shown again with the refusal"
        assert ControlledItem.objects.filter(code=existing.code).count() == 1

    def test_an_item_stays_on_its_authoritys_list(self, client, administrator):
        client.force_login(administrator)
        entry = item()
        other = Authority.objects.exclude(pk=entry.authority_id).first()
        page = post_change(client, entry, authority=other.pk)
        assert field_errors(page, "authority")
        entry.refresh_from_db()
        assert entry.authority_id != other.pk


class TestControlledItemService:
    def test_it_creates_an_item_and_refuses_a_duplicate_code(self):
        now = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
        fields = dict(authority=authority(), code="3A090.a", description="ICs", unit="pcs")
        made = controlled_item_create(now=now, actor=None, **fields)
        assert made.pk and made.code == "3A090.a"
        with pytest.raises(InvalidInput) as refused:
            controlled_item_create(now=now, actor=None, **fields)
        assert set(refused.value.fields) == {"code"}


class TestExporters:
    def test_adding_an_exporter_goes_through_the_service(self, client, administrator):
        client.force_login(administrator)
        response = post_add(
            client,
            Exporter,
            name="Jiangxi Tungsten Export Co., Ltd.",
            registration_number="91360000MA00000001",
            country="CN",
            contact_emails='["export@jxtungsten.example"]',
        )
        assert response.status_code == 302
        exporter = Exporter.objects.get(registration_number="91360000MA00000001")
        assert exporter.contact_emails == ["export@jxtungsten.example"]

    def test_changing_an_exporter_goes_through_the_service(self, client, administrator, ganzhou):
        client.force_login(administrator)
        assert post_change(client, ganzhou, address="1 Jiefang Road").status_code == 302
        ganzhou.refresh_from_db()
        assert ganzhou.address == "1 Jiefang Road"

    def test_a_bad_contact_address_is_refused_with_the_services_message_on_the_field(
        self, client, administrator, ganzhou
    ):
        client.force_login(administrator)
        page = post_change(
            client, ganzhou, contact_emails='["not-an-address"]', address="1 Jiefang Road"
        )
        assert field_errors(page, "contact_emails") == ["not-an-address is not an e-mail address."]
        ganzhou.refresh_from_db()
        assert ganzhou.address == "" and "not-an-address" not in ganzhou.contact_emails

    def test_a_refusal_by_the_models_own_rules_is_said_above_the_fields_like_any_other(
        self, client, administrator, ganzhou
    ):
        client.force_login(administrator)
        page = post_change(client, ganzhou, contact_emails='["not-an-address"]')
        assert list(page.context["adminform"].form.non_field_errors()) == [
            "contact_emails: not-an-address is not an e-mail address."
        ]

    def test_a_registration_number_already_taken_is_refused_on_the_field(
        self, client, administrator, ganzhou
    ):
        other = ExporterFactory()
        client.force_login(administrator)
        page = post_change(client, ganzhou, registration_number=other.registration_number)
        assert field_errors(page, "registration_number")
        ganzhou.refresh_from_db()
        assert ganzhou.registration_number != other.registration_number
