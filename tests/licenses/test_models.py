"""What must always hold, held by the database where it can be and by validation where not."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from licenses.models import Authority, ControlledItem, LicenseApplication
from monitoring.models import Flag
from shipments.models import Shipment

from ..factories import (
    ApplicationFactory,
    ConsigneeFactory,
    ExporterFactory,
    ShipmentFactory,
    item,
)

pytestmark = pytest.mark.django_db


def refused(fn) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_database_refuses_an_unknown_application_state():
    app = ApplicationFactory()
    refused(lambda: LicenseApplication.objects.filter(pk=app.pk).update(status="lost"))


def test_database_refuses_an_unknown_shipment_state():
    shipment = ShipmentFactory()
    refused(lambda: Shipment.objects.filter(pk=shipment.pk).update(status="teleported"))


@pytest.mark.parametrize("field", ["quantity", "value"])
@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1")])
def test_database_refuses_non_positive_application_amounts(field, amount):
    app = ApplicationFactory()
    refused(lambda: LicenseApplication.objects.filter(pk=app.pk).update(**{field: amount}))


@pytest.mark.parametrize("field", ["quantity", "value"])
def test_database_refuses_non_positive_shipment_amounts(field):
    shipment = ShipmentFactory()
    refused(lambda: Shipment.objects.filter(pk=shipment.pk).update(**{field: Decimal("0")}))


def test_our_reference_is_unique_per_exporter_but_not_across_exporters():
    first = ApplicationFactory(reference="GZ-2026-001")
    ApplicationFactory(reference="GZ-2026-001")  # another exporter: fine
    refused(lambda: ApplicationFactory(exporter=first.exporter, reference="GZ-2026-001"))


def test_shipment_reference_is_unique_per_exporter():
    first = ShipmentFactory(reference="SHP-1")
    refused(lambda: ShipmentFactory(exporter=first.exporter, reference="SHP-1"))


def test_authority_case_number_is_unique_per_authority():
    ApplicationFactory(authority_reference="MOFCOM-2026-0042")
    refused(lambda: ApplicationFactory(authority_reference="MOFCOM-2026-0042"))


def test_many_applications_may_wait_for_a_case_number():
    ApplicationFactory(authority_reference=None)
    ApplicationFactory(authority_reference=None)
    ApplicationFactory(authority_reference="")
    ApplicationFactory(authority_reference="")
    assert LicenseApplication.objects.count() == 4


def test_the_same_case_number_may_exist_at_two_authorities():
    ApplicationFactory(authority_reference="2026-7")
    ApplicationFactory(authority_reference="2026-7", authority=Authority.objects.get(code="BIS"))


def test_a_decision_cannot_precede_the_submission():
    app = ApplicationFactory()
    submitted = timezone.now() - dt.timedelta(days=3)
    LicenseApplication.objects.filter(pk=app.pk).update(submitted_at=submitted)
    refused(
        lambda: LicenseApplication.objects.filter(pk=app.pk).update(
            decided_at=submitted - dt.timedelta(hours=1)
        )
    )


def test_a_flag_has_exactly_one_subject_and_one_open_per_kind():
    app = ApplicationFactory()
    now = timezone.now()
    Flag.objects.create(application=app, exporter=app.exporter, kind="overdue", raised_at=now)
    refused(
        lambda: Flag.objects.create(
            application=app, exporter=app.exporter, kind="overdue", raised_at=now
        )
    )
    refused(lambda: Flag.objects.create(exporter=app.exporter, kind="overdue", raised_at=now))
    refused(
        lambda: Flag.objects.create(
            application=app, exporter=app.exporter, kind="at_risk", raised_at=now
        )
    )


def test_an_unknown_item_code_is_unique_per_authority():
    mofcom = Authority.objects.get(code="MOFCOM")
    refused(lambda: ControlledItem.objects.create(authority=mofcom, code="1C902", description="x"))


class TestShipmentMatchesItsApplication:
    def _pair(self, **shipment_kwargs):
        app = ApplicationFactory(destination="DE", currency="USD")
        fields = {"exporter": app.exporter, "destination": "DE", "currency": "USD", "item": item()}
        fields.update(shipment_kwargs)
        shipment = ShipmentFactory.build(application=app, **fields)
        shipment.consignee = ConsigneeFactory(exporter=shipment.exporter)
        return shipment

    def test_a_matching_shipment_is_valid(self):
        self._pair().full_clean()

    def test_another_exporters_shipment_is_refused(self):
        shipment = self._pair(exporter=ExporterFactory())
        with pytest.raises(ValidationError) as exc:
            shipment.full_clean()
        assert "application" in exc.value.message_dict

    def test_another_destination_is_refused(self):
        with pytest.raises(ValidationError) as exc:
            self._pair(destination="US").full_clean()
        assert "destination" in exc.value.message_dict

    def test_an_item_not_on_the_application_is_refused(self):
        with pytest.raises(ValidationError) as exc:
            self._pair(item=item("1C903")).full_clean()
        assert "item" in exc.value.message_dict

    def test_another_currency_is_refused(self):
        with pytest.raises(ValidationError) as exc:
            self._pair(currency="EUR").full_clean()
        assert "currency" in exc.value.message_dict

    def test_the_unit_is_the_items_unit(self):
        shipment = self._pair()
        shipment.full_clean()
        assert shipment.unit == "kg"

    def test_a_consignee_of_another_exporter_is_refused(self):
        shipment = self._pair()
        shipment.consignee = ConsigneeFactory()
        with pytest.raises(ValidationError) as exc:
            shipment.full_clean()
        assert "consignee" in exc.value.message_dict


def test_deleting_an_application_that_has_events_is_refused(officer):
    from django.db.models import ProtectedError

    from licenses.models import Event

    app = ApplicationFactory()
    Event.objects.create(
        kind="created",
        application=app,
        occurred_at=timezone.now(),
        recorded_at=timezone.now(),
        actor=officer,
    )
    with pytest.raises(ProtectedError):
        app.delete()
    with pytest.raises(ProtectedError):
        officer.delete()


def test_pending_applications_are_indexed_by_due_date():
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, "licenses_licenseapplication")
    assert "application_pending_due" in indexes
