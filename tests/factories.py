"""Factories for the domain; seeded authorities and items are reused, not recreated."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from licenses import tallies
from licenses.models import Authority, ControlledItem, Exporter, LicenseApplication
from shipments.models import Consignee, Shipment

# The moment factories compute derived state at (the tests' `helpers.NOW`).
FACTORY_NOW = dt.datetime(2026, 11, 29, 4, tzinfo=dt.UTC)


def authority(code: str = "MOFCOM") -> Authority:
    return Authority.objects.get(code=code)


def item(code: str = "1C902") -> ControlledItem:
    return ControlledItem.objects.get(code=code)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class ExporterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Exporter

    name = factory.Sequence(lambda n: f"Exporter {n} Co., Ltd.")
    registration_number = factory.Sequence(lambda n: f"91360700MA{n:08d}")
    country = "CN"
    contact_emails = factory.LazyAttribute(
        lambda e: [f"compliance{e.registration_number[-4:]}@example.com"]
    )


class ConsigneeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consignee

    exporter = factory.SubFactory(ExporterFactory)
    name = factory.Sequence(lambda n: f"Consignee {n} GmbH")
    country = "DE"
    end_use = "Permanent magnets for electric motors"


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LicenseApplication
        skip_postgeneration_save = True

    exporter = factory.SubFactory(ExporterFactory)
    authority = factory.LazyFunction(lambda: authority("MOFCOM"))
    license_type = "individual"
    destination = "DE"
    reference = factory.Sequence(lambda n: f"APP-{n:05d}")
    # MOFCOM gives its case number on acceptance, and acceptance there requires it.
    authority_reference = factory.Sequence(lambda n: f"CASE-{n:05d}")
    quantity = Decimal("500.000")
    value = Decimal("120000.00")
    currency = "USD"

    @factory.post_generation
    def items(self, create, extracted, **kwargs):
        if not create:
            return
        self.items.set(extracted if extracted is not None else [item("1C902")])

    @factory.post_generation
    def tally(self, create, extracted, **kwargs):
        """Counted in the status tallies, as its `created` event counts it."""
        if create:
            tallies.record([(self.pk, None, "", self.status)])


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment
        skip_postgeneration_save = True

    exporter = factory.SubFactory(ExporterFactory)
    reference = factory.Sequence(lambda n: f"SHP-{n:05d}")
    item = factory.LazyFunction(lambda: item("1C902"))
    quantity = Decimal("100.000")
    value = Decimal("24000.00")
    currency = "USD"
    destination = "DE"
    consignee = factory.LazyAttribute(
        lambda s: ConsigneeFactory(exporter=s.exporter, country=s.destination)
    )
    planned_ship_date = factory.LazyFunction(lambda: dt.date(2026, 12, 15))
    application = None

    @factory.post_generation
    def file_by(self, create, extracted, **kwargs):
        """Its file-by deadline, as `shipment_create` stores it (a plain save stores none)."""
        if not create:
            return
        from monitoring import scan

        scan.refresh_file_by(now=FACTORY_NOW, shipments=Shipment.objects.filter(pk=self.pk))
        self.forget_deadline()

    @factory.post_generation
    def tally(self, create, extracted, **kwargs):
        """Counted in the status tallies, as its `created` event counts it."""
        if create:
            tallies.record([(self.application_id, self.pk, "", self.status)])
