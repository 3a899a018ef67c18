"""Consignees and shipments in the back-office go through the shipment services (state,
drawdown and events); flags, alerts and digests are read-only records; alert settings are
saved through `preference_save`; a refusal is shown on its field and changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from licenses.models import EventKind
from monitoring.models import Alert, AlertPreference, Digest, Flag, ScanSettings
from shipments import services as shipping
from shipments.models import Consignee, Shipment

from ..factories import ApplicationFactory, ConsigneeFactory, ShipmentFactory, item
from ..helpers import NOW
from .forms import (
    field_errors,
    non_field_errors,
    page_messages,
    post_action,
    post_add,
    post_change,
)

pytestmark = pytest.mark.django_db

NO_EVENTS = {"events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0"}


class TestConsignees:
    def test_adding_and_changing_a_consignee(self, client, officer, ganzhou):
        client.force_login(officer)
        response = post_add(
            client, Consignee, exporter=ganzhou.pk, name="Magnet GmbH", country="DE"
        )
        assert response.status_code == 302
        consignee = Consignee.objects.get(name="Magnet GmbH")
        assert post_change(client, consignee, end_use="Motors").status_code == 302
        consignee.refresh_from_db()
        assert consignee.end_use == "Motors" and consignee.exporter == ganzhou

    def test_a_bad_country_is_refused_on_the_field(self, client, officer, ganzhou):
        consignee = ConsigneeFactory(exporter=ganzhou)
        client.force_login(officer)
        page = post_change(client, consignee, country="Germany", end_use="Motors")
        assert field_errors(page, "country")
        consignee.refresh_from_db()
        assert consignee.country == "DE" and consignee.end_use != "Motors"


def new_shipment(ganzhou, application, **changes):
    fields = {
        "exporter": ganzhou.pk,
        "reference": "ADM-SHP-2",
        "item": item().pk,
        "quantity": "10",
        "value": "100",
        "currency": "USD",
        "destination": "DE",
        "planned_ship_date": "2026-12-24",
        "application": application.pk,
        **NO_EVENTS,
    }
    fields.update(changes)
    return fields


class TestShipments:
    def test_a_second_shipment_on_an_individual_license_is_refused_on_the_application(
        self, client, officer, ganzhou
    ):
        app = ApplicationFactory(exporter=ganzhou, license_type="individual")
        ShipmentFactory(exporter=ganzhou, application=app)
        client.force_login(officer)
        page = post_add(client, Shipment, **new_shipment(ganzhou, app))
        assert field_errors(page, "application") == [
            "This individual license already covers a shipment."
        ]
        assert not Shipment.objects.filter(reference="ADM-SHP-2").exists()

    def test_editing_a_shipment_records_the_services_edited_event(self, client, officer, ganzhou):
        app = ApplicationFactory(exporter=ganzhou, license_type="general")
        shipment = shipping.shipment_create(
            now=NOW,
            actor=None,
            **{
                "exporter": ganzhou,
                "reference": "ADM-SHP-3",
                "item": item(),
                "quantity": 10,
                "value": 100,
                "currency": "USD",
                "destination": "DE",
                "planned_ship_date": dt.date(2026, 12, 24),
                "application": app,
            },
        )
        client.force_login(officer)
        assert post_change(client, shipment, quantity="25", **NO_EVENTS).status_code == 302
        shipment.refresh_from_db()
        assert shipment.quantity == 25
        app.refresh_from_db()
        assert app.drawn_quantity == 25  # released 10, reserved 25
        event = shipment.events.get(kind=EventKind.EDITED)
        assert event.data == {"edited": {"quantity": "25"}} and event.actor == officer

    def test_editing_a_cancelled_shipment_is_refused_with_the_services_message(
        self, client, officer, ganzhou
    ):
        shipment = ShipmentFactory(exporter=ganzhou)
        shipping.shipment_cancel(shipment=shipment, now=NOW, actor=None)
        client.force_login(officer)
        page = post_change(client, shipment, quantity="25", **NO_EVENTS)
        assert "The shipment is cancelled: it can no longer be edited." in non_field_errors(page)
        shipment.refresh_from_db()
        assert shipment.quantity == 100 and shipment.status == "cancelled"
        assert not shipment.events.filter(kind=EventKind.EDITED).exists()

    def test_state_fields_of_a_shipment_cannot_be_posted_even_by_a_superuser(
        self, client, superuser, ganzhou
    ):
        shipment = ShipmentFactory(exporter=ganzhou)
        client.force_login(superuser)
        url = reverse("admin:shipments_shipment_change", args=[shipment.pk])
        form = client.get(url).context["adminform"].form
        assert not {"status", "unit", "file_by_date", "shipped_at", "delivered_at"} & set(
            form.fields
        )
        post_change(client, shipment, status="delivered", **NO_EVENTS)
        shipment.refresh_from_db()
        assert shipment.status != "delivered"


@pytest.fixture
def flag(ganzhou):
    app = ApplicationFactory(exporter=ganzhou)
    return Flag.objects.create(application=app, exporter=ganzhou, kind="overdue", raised_at=NOW)


def alert(flag, state, address):
    return Alert.objects.create(
        flag=flag, recipient=address, state=state, created_at=NOW, message_id=f"<{address}>"
    )


class TestTheOutbox:
    def test_a_flag_cannot_be_changed_in_the_admin_even_by_a_superuser(
        self, client, superuser, flag
    ):
        client.force_login(superuser)
        url = reverse("admin:monitoring_flag_change", args=[flag.pk])
        client.post(url, {"kind": "at_risk", "cleared_at_0": "2026-12-01", "cleared_at_1": "10:00"})
        flag.refresh_from_db()
        assert flag.kind == "overdue" and flag.cleared_at is None

    def test_retrying_an_unsent_alert_makes_it_due(self, client, superuser, flag):
        failed = alert(flag, Alert.State.FAILED, "a@example.com")
        client.force_login(superuser)
        page = post_action(client, Alert, "retry_now", [failed])
        assert "1 alert(s) will be sent again." in page_messages(page)
        failed.refresh_from_db()
        assert failed.state == "pending" and failed.next_attempt_at is not None

    def test_a_sent_alert_is_not_sent_again(self, client, superuser, flag):
        sent = alert(flag, Alert.State.SENT, "b@example.com")
        client.force_login(superuser)
        page = post_action(client, Alert, "retry_now", [sent])
        assert "1 alert(s) were already sent and are not sent again." in page_messages(page)
        sent.refresh_from_db()
        assert sent.state == "sent" and sent.next_attempt_at is None

    def test_a_digest_cannot_be_changed_in_the_admin(self, client, superuser, administrator):
        digest = Digest.objects.create(
            user=administrator, local_date="2026-11-29", created_at=NOW, message_id="<d@y>"
        )
        client.force_login(superuser)
        url = reverse("admin:monitoring_digest_change", args=[digest.pk])
        client.post(url, {"local_date": "2026-11-30", "message_id": "<other>"})
        digest.refresh_from_db()
        assert str(digest.local_date) == "2026-11-29" and digest.message_id == "<d@y>"


class TestAlertSettings:
    def test_adding_alert_settings_for_a_user_goes_through_the_service(
        self, client, administrator, limited, ganzhou
    ):
        client.force_login(administrator)
        response = post_add(
            client,
            AlertPreference,
            user=limited.pk,
            watched_exporters=[ganzhou.pk],
            immediate_kinds='["overdue"]',
            digest_hour="9",
            time_zone="Asia/Shanghai",
            language="en",
        )
        assert response.status_code == 302
        saved = AlertPreference.objects.get(user=limited)
        assert list(saved.watched_exporters.all()) == [ganzhou]
        assert saved.immediate_kinds == ["overdue"] and saved.time_zone == "Asia/Shanghai"

    def test_an_unknown_time_zone_is_refused_on_the_field(self, client, administrator, officer):
        client.force_login(administrator)
        page = post_add(
            client,
            AlertPreference,
            user=officer.pk,
            immediate_kinds="[]",
            digest_hour="9",
            time_zone="Asia/Atlantis",
            language="en",
        )
        assert field_errors(page, "time_zone") == ["Unknown time zone."]
        assert not AlertPreference.objects.exists()

    def test_changing_settings_goes_through_the_service(self, client, administrator, officer):
        preference = AlertPreference.objects.create(user=officer)
        client.force_login(administrator)
        response = post_change(client, preference, watch_all="on", digest="on", digest_hour="7")
        assert response.status_code == 302
        preference.refresh_from_db()
        assert preference.digest and preference.digest_hour == 7

    def test_watching_an_exporter_the_user_may_not_see_is_refused_on_the_field(
        self, client, administrator, limited, baotou
    ):
        preference = AlertPreference.objects.create(user=limited)
        client.force_login(administrator)
        page = post_change(client, preference, watched_exporters=[baotou.pk], digest_hour="7")
        assert field_errors(page, "watched_exporters") == [
            "You may only watch exporters you may see."
        ]
        preference.refresh_from_db()
        assert preference.digest_hour == 8 and not preference.watched_exporters.exists()


class TestScanSettings:
    def test_changing_the_thresholds(self, client, administrator):
        settings_row = ScanSettings.load()
        client.force_login(administrator)
        assert post_change(client, settings_row, expiring_within_days="45").status_code == 302
        assert ScanSettings.load().expiring_within_days == 45

    def test_a_negative_threshold_is_refused_on_the_field(self, client, administrator):
        settings_row = ScanSettings.load()
        client.force_login(administrator)
        page = post_change(client, settings_row, expiring_within_days="-3")
        assert field_errors(page, "expiring_within_days")
        assert ScanSettings.load().expiring_within_days == 30
