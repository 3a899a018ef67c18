"""A statement compiled once per shape and run again with other values gives what the queryset
built for those values gives; one whose SQL depends on its values otherwise is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext

from core import statements
from core.lookups import Ids
from licenses.models import Exporter, LicenseApplication

from ..factories import ApplicationFactory, ExporterFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fresh():
    statements._STATEMENTS.clear()
    yield
    statements._STATEMENTS.clear()


def by_ids(ids):
    return Exporter.objects.filter(pk__any=ids).order_by("pk").values_list("pk", "name")


def test_each_call_gets_the_rows_of_its_own_values():
    exporters = ExporterFactory.create_batch(4)
    pks = [e.pk for e in exporters]
    for chosen in ([pks[0]], pks[1:3], [], pks):
        got = statements.rows("exporters", by_ids, Ids(chosen))
        assert got == list(by_ids(chosen)) == [(e.pk, e.name) for e in exporters if e.pk in chosen]
    assert len(statements._STATEMENTS) == 1  # compiled once


def due_daily(n: int) -> list[LicenseApplication]:
    """`n` applications, due a day apart from T0."""
    apps = ApplicationFactory.create_batch(n)
    for days, app in enumerate(apps):
        LicenseApplication.objects.filter(pk=app.pk).update(due_at=T0 + dt.timedelta(days=days))
    return apps


def test_a_moment_and_ids_together_fill_their_own_places():
    apps = due_daily(3)

    def due_before(moment, ids):
        return (
            LicenseApplication.objects.filter(due_at__lt=moment, pk__any=ids)
            .order_by("due_at")
            .values_list("reference", "due_at")
        )

    every = Ids(a.pk for a in apps)
    for days, ids in ((1, every), (3, every), (3, Ids([apps[2].pk])), (0, every)):
        moment = T0 + dt.timedelta(days=days, hours=1)
        got = statements.rows("due", due_before, moment, ids)
        assert got == list(due_before(moment, ids))
    assert statements.rows("due", due_before, T0 + dt.timedelta(days=2), every) == [
        (apps[0].reference, T0),
        (apps[1].reference, T0 + dt.timedelta(days=1)),
    ]


def test_two_moments_each_fill_their_own_places():
    apps = due_daily(3)

    def between(since, until):
        return (
            LicenseApplication.objects.filter(due_at__gte=since, due_at__lt=until)
            .order_by("due_at")
            .values_list("reference")
        )

    for first, last in ((0, 3), (1, 2), (2, 1), (0, 1)):
        since, until = T0 + dt.timedelta(days=first), T0 + dt.timedelta(days=last)
        got = statements.rows("between", between, since, until)
        assert got == list(between(since, until))
    assert statements.rows(
        "between", between, T0 + dt.timedelta(days=1), T0 + dt.timedelta(days=3)
    ) == [
        (apps[1].reference,),
        (apps[2].reference,),
    ]


def test_annotations_come_in_the_order_values_list_names_them():
    exporter = ExporterFactory()
    ApplicationFactory.create_batch(2, exporter=exporter)

    def counted():
        return (
            LicenseApplication.objects.order_by()
            .annotate(owner=F("exporter_id"))
            .values_list("owner", "status")
            .annotate(n=Count("*"))
        )

    assert statements.rows("counted", counted) == list(counted()) == [(exporter.pk, "draft", 2)]


def test_the_converters_django_applies_are_applied():
    exporter = ExporterFactory(contact_emails=["a@example.com"])

    def emails():
        return Exporter.objects.filter(pk=exporter.pk).values_list("contact_emails")

    assert statements.rows("emails", emails) == list(emails()) == [(["a@example.com"],)]


def test_a_query_that_can_match_nothing_gives_no_rows_and_runs_nothing(django_assert_num_queries):
    def nothing():
        return Exporter.objects.none().values_list("pk")

    with django_assert_num_queries(0):
        assert statements.rows("nothing", nothing) == []


def test_sql_that_depends_on_the_values_is_refused():
    def one_placeholder_per_id(ids):
        return Exporter.objects.filter(pk__in=list(ids)).values_list("pk")

    with pytest.raises(ImproperlyConfigured):
        statements.rows("per id", one_placeholder_per_id, Ids([1, 2]))


def test_a_value_that_does_not_reach_the_statement_is_refused():
    def ignores(moment):
        return Exporter.objects.values_list("pk")

    with pytest.raises(ImproperlyConfigured):
        statements.rows("ignores", ignores, T0)


def test_a_reused_statement_is_one_query():
    ExporterFactory.create_batch(2)
    statements.rows("exporters", by_ids, Ids([1]))  # compiled (and run) once
    with CaptureQueriesContext(connection) as captured:
        statements.rows("exporters", by_ids, Ids([2, 3]))
    assert len(captured.captured_queries) == 1
    assert "ANY" in captured.captured_queries[0]["sql"]


def test_two_days_each_fill_their_own_places():
    apps = ApplicationFactory.create_batch(3)
    for n, app in enumerate(apps):
        LicenseApplication.objects.filter(pk=app.pk).update(
            valid_until=T0.date() + dt.timedelta(days=n)
        )

    def valid(first, last):
        return (
            LicenseApplication.objects.filter(valid_until__gte=first, valid_until__lt=last)
            .order_by("valid_until")
            .values_list("reference", "valid_until")
        )

    day = T0.date()
    for first, last in ((0, 3), (1, 2), (2, 1), (1, 3)):
        since, until = day + dt.timedelta(days=first), day + dt.timedelta(days=last)
        assert statements.rows("valid", valid, since, until) == list(valid(since, until))
    assert statements.rows(
        "valid", valid, day + dt.timedelta(days=1), day + dt.timedelta(days=9)
    ) == [
        (apps[1].reference, day + dt.timedelta(days=1)),
        (apps[2].reference, day + dt.timedelta(days=2)),
    ]
