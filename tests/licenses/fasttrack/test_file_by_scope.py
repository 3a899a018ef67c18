"""The file-by deadlines follow a decision in its scope only, once its pass is done: at once
for a pass run inline, in a task of their own (queued on commit) for a large one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from licenses.fasttrack import decision_edit
from licenses.tasks import recompute_decision_scope
from monitoring import scan
from monitoring.models import Flag
from monitoring.tasks import refresh_decision_file_by
from shipments.models import FilingDeadline, Shipment

from ...factories import ShipmentFactory
from ...helpers import NOW
from .builders import log, pending
from .test_scale import bulk_pending

pytestmark = pytest.mark.django_db

FILE_BY_45 = dt.date(2026, 9, 22)  # 45 + 10 working days before Tue 15 Dec
FILE_BY_20 = dt.date(2026, 11, 3)  # 20 + 10


def deadline(shipment: Shipment) -> dt.date | None:
    return (
        FilingDeadline.objects.filter(shipment=shipment)
        .values_list("file_by_date", flat=True)
        .first()
    )


def test_a_decision_moves_only_the_deadlines_in_its_scope(manager, ganzhou):
    to_germany = ShipmentFactory(exporter=ganzhou, destination="DE")
    to_the_us = ShipmentFactory(exporter=ganzhou, destination="US")
    assert deadline(to_germany) == deadline(to_the_us) == FILE_BY_45

    log(window_days=20, destinations=["DE"], actor=manager)

    assert deadline(to_germany) == FILE_BY_20
    assert deadline(to_the_us) == FILE_BY_45


def test_a_decision_naming_applications_moves_no_deadline(manager, ganzhou):
    goods = ShipmentFactory(exporter=ganzhou)
    app = pending(destination="DE")
    log(window_days=20, applications=[app], actor=manager)
    assert deadline(goods) == FILE_BY_45


def test_correcting_a_decisions_wording_recomputes_no_deadline(manager, ganzhou):
    ShipmentFactory(exporter=ganzhou)
    decision = log(window_days=20, actor=manager)
    with CaptureQueriesContext(connection) as queries:
        decision_edit(decision=decision, actor=manager, now=NOW, source="Corrected source")
    assert not [q for q in queries if "shipments_shipment" in q["sql"]]


def test_the_deadlines_of_a_large_pass_follow_in_their_own_task(
    settings, manager, ganzhou, django_capture_on_commit_callbacks, monkeypatch
):
    settings.FAST_TRACK_INLINE_LIMIT = 20
    settings.FAST_TRACK_CHUNK_SIZE = 10
    bulk_pending(25)
    # Its last day to file has passed under the 45-day window, not under the 20-day one: the
    # decision moves it across `now`. Its flags are right, as `shipment_create` leaves them.
    crossing = ShipmentFactory(exporter=ganzhou, planned_ship_date=dt.date(2027, 1, 29))
    scan.evaluate(now=NOW, shipment_ids=[crossing.pk])
    assert open_file_by(crossing)
    # Passed under both (15 December, 22 September → 3 November): moved, not across `now`.
    # Made by the factory around the services, it carries no flag, although it is due.
    passed = ShipmentFactory(exporter=ganzhou)
    assert not open_file_by(passed)
    queued: list[tuple] = []
    followed: list[tuple] = []
    monkeypatch.setattr(recompute_decision_scope, "delay", lambda *args: queued.append(args))
    monkeypatch.setattr(refresh_decision_file_by, "delay", lambda *args: followed.append(args))

    with django_capture_on_commit_callbacks(execute=True):
        decision = log(window_days=20, actor=manager)
    before = deadline(crossing)
    assert deadline(passed) == FILE_BY_45  # the pass is queued: nothing moved yet
    assert followed == []

    with django_capture_on_commit_callbacks(execute=True):
        recompute_decision_scope(*queued[0])
    assert followed == [(decision.pk, NOW.isoformat())]
    assert deadline(passed) == FILE_BY_45  # still: the follow-up task does it

    summary = refresh_decision_file_by(*followed[0])  # the task function itself
    assert deadline(passed) == FILE_BY_20
    after = deadline(crossing)
    assert before is not None and after is not None
    assert before < NOW.date() < after
    # Only the deadline that crossed `now` has its flags re-evaluated: cleared.
    assert summary.startswith("file_by: +0 -1; ")
    assert not open_file_by(crossing)
    assert not open_file_by(passed)  # as it was: its deadline passed before and after
    assert refresh_decision_file_by(*followed[0]) == "nothing changed; 0 alert(s) queued"
    # What was written around the services is reconciled by the full scan (the daily job).
    scan.scan(now=NOW)
    assert open_file_by(passed)
    assert not open_file_by(crossing)


def open_file_by(shipment: Shipment) -> bool:
    return Flag.objects.filter(shipment=shipment, kind="file_by", cleared_at__isnull=True).exists()


def test_the_set_based_refresh_matches_the_shipment_by_shipment_computation(manager, ganzhou):
    ships = [
        ShipmentFactory(exporter=ganzhou, destination=dest, planned_ship_date=day)
        for dest in ("DE", "US")
        for day in (dt.date(2026, 12, 15), dt.date(2027, 1, 4), dt.date(2027, 2, 26))
    ]
    log(window_days=20, destinations=["US"], actor=manager)
    expected = scan.file_by_dates(
        list(Shipment.objects.filter(pk__in=[s.pk for s in ships])), now=NOW
    )
    FilingDeadline.objects.filter(shipment__in=ships).delete()
    changed = scan.refresh_file_by(now=NOW, shipments=Shipment.objects.all())
    assert sorted(changed) == sorted(s.pk for s in ships)
    stored = dict(
        (pk, (day, at))
        for pk, day, at in FilingDeadline.objects.values_list(
            "shipment_id", "file_by_date", "file_by_at"
        )
    )
    assert stored == expected
    assert scan.refresh_file_by(now=NOW, shipments=Shipment.objects.all()) == []


def test_moving_deadlines_rewrites_no_shipment_row(manager, ganzhou):
    """The deadlines live in their own narrow table: a decision that moves them leaves every
    shipment row as it was (PostgreSQL's `ctid`, where the row version lies, is unchanged:
    any UPDATE of the row would write a new version elsewhere), so the shipments table and
    its indexes are not touched."""
    ships = [ShipmentFactory(exporter=ganzhou, destination="US") for _ in range(3)]

    def versions() -> dict[int, str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, ctid::text FROM shipments_shipment WHERE id = ANY(%s)",
                [[s.pk for s in ships]],
            )
            return dict(cursor.fetchall())

    before = versions()
    assert {deadline(s) for s in ships} == {FILE_BY_45}
    log(window_days=20, destinations=["US"], actor=manager)
    assert {deadline(s) for s in ships} == {FILE_BY_20}
    assert versions() == before


def test_a_deadline_says_whether_its_shipment_is_planned_through_every_move(ganzhou):
    """The `file_by` flag and the work queue read the deadlines of planned shipments from a
    partial index: the deadline follows its shipment in and out of `planned`."""
    from licenses import services

    from ...factories import ApplicationFactory
    from ...helpers import at

    app = ApplicationFactory(exporter=ganzhou)
    goods = ShipmentFactory(exporter=ganzhou, application=app)

    def planned() -> bool:
        return FilingDeadline.objects.values_list("planned", flat=True).get(shipment=goods)

    assert planned()
    services.application_submit(application=app, at=at("2026-09-01"), now=NOW, actor=None)
    assert not planned()  # awaiting its license
    services.application_withdraw(application=app, at=at("2026-09-02"), now=NOW, actor=None)
    goods.refresh_from_db()
    assert goods.status == "planned" and planned()
    # and the deadline that passed is flagged again at once
    assert Flag.objects.filter(shipment=goods, kind="file_by", cleared_at__isnull=True).exists()


@pytest.mark.parametrize("vendor", ["postgresql", "other"])
def test_a_refresh_says_which_deadlines_crossed_now(vendor, manager, ganzhou, monkeypatch):
    """`crossed`: the deadlines moved across `now`, and the new ones; the set-based statement
    (PostgreSQL) and the shipment-by-shipment path (elsewhere) agree."""
    from monitoring.scan import file_by

    crossing = ShipmentFactory(exporter=ganzhou, planned_ship_date=dt.date(2027, 1, 29))
    passed = ShipmentFactory(exporter=ganzhou)  # passed before and after
    ahead = ShipmentFactory(exporter=ganzhou, planned_ship_date=dt.date(2027, 6, 30))
    new = ShipmentFactory(exporter=ganzhou, planned_ship_date=dt.date(2027, 6, 30))
    ids = sorted([crossing.pk, passed.pk, ahead.pk, new.pk])
    under_45 = list(FilingDeadline.objects.filter(shipment_id__in=ids))
    log(window_days=20, actor=manager)  # in force: the deadlines move to the 20-day window
    FilingDeadline.objects.bulk_update(under_45, ["file_by_date", "file_by_at"])  # back
    FilingDeadline.objects.filter(shipment=new).delete()
    if vendor != "postgresql":
        monkeypatch.setattr(file_by, "connection", type("C", (), {"vendor": vendor})())

    moved = file_by.refresh_file_by_moves(now=NOW, shipments=Shipment.objects.filter(pk__in=ids))

    assert moved.changed == ids
    assert moved.crossed == sorted([crossing.pk, new.pk])
    assert scan.refresh_file_by(now=NOW, shipments=Shipment.objects.filter(pk__in=ids)) == []
