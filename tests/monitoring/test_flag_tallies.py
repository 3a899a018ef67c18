"""Flag tallies: the scan writes them with every flag it raises and clears, so the dashboard's
open flags and its chart of open flags over time read them instead of the flags."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from licenses import services
from monitoring import flag_tallies, scan
from monitoring.models import SHIPMENT_FLAGS, Flag, FlagTally

from ..factories import ApplicationFactory, authority
from ..helpers import LONDON, SHANGHAI, at
from .builders import approve, mofcom_application

pytestmark = pytest.mark.django_db

DUE_SOON = dt.datetime(2026, 12, 3, 22, 30, tzinfo=SHANGHAI)
OVERDUE = dt.datetime(2026, 12, 4, 0, 0, tzinfo=SHANGHAI)
LATER = dt.datetime(2026, 12, 9, 9, 30, tzinfo=SHANGHAI)


def open_now(exporter_ids=None, *, by: str = "kind", **only) -> dict:
    """The open flags counted from the flags themselves, by `by`."""
    flags = Flag.objects.filter(cleared_at__isnull=True, **only)
    if exporter_ids is not None:
        flags = flags.filter(exporter_id__in=exporter_ids)
    return dict(Counter(flags.values_list(by, flat=True)))


def open_then(moment: dt.datetime, kind: str) -> int:
    return (
        Flag.objects.filter(kind=kind, raised_at__lte=moment)
        .exclude(cleared_at__lte=moment)
        .count()
    )


def test_the_scan_keeps_the_tallies_of_what_it_raises_and_clears(exporter, baotou):
    mine = mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    mofcom_application(baotou, submitted="2026-09-20", accepted="2026-09-24")
    scan.scan(now=DUE_SOON)
    assert open_now() == {"due_soon": 2} == flag_tallies.read(None).counts()
    scan.scan(now=OVERDUE)  # due_soon cleared, overdue raised
    assert flag_tallies.read(None).counts() == open_now() == {"overdue": 2}
    assert flag_tallies.read([mine.exporter_id]).counts() == {"overdue": 1}
    assert flag_tallies.read([]).counts() == {}
    # the chart: open at the end of a moment in the past, and now
    ends = [dt.datetime(2026, 12, 4, 0, 0, tzinfo=dt.UTC), LATER]
    series = flag_tallies.read(None, since=ends[0]).at(ends, now=LATER)
    assert series["overdue"] == [open_then(ends[0], "overdue"), 2] == [2, 2]
    before = [dt.datetime(2026, 12, 3, 15, 0, tzinfo=dt.UTC)]  # 23:00 in Beijing
    assert flag_tallies.read(None, since=before[0]).at(before, now=LATER)["due_soon"] == [2]
    assert open_then(before[0], "due_soon") == 2
    assert flag_tallies.read(None, since=before[0]).at(before, now=LATER)["overdue"] == [0]


def test_compaction_keeps_the_sums_and_recount_corrects_drift(exporter):
    mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    scan.scan(now=DUE_SOON)
    scan.scan(now=OVERDUE)
    counts = flag_tallies.read(None).counts()
    rows = FlagTally.objects.count()
    flag_tallies.compact(now=OVERDUE + dt.timedelta(days=200))  # every hour is old by then
    assert FlagTally.objects.count() < rows
    assert flag_tallies.read(None).counts() == counts
    # a flag written around the scan: the tallies miss it until the recount
    Flag.objects.filter(kind="overdue").update(cleared_at=LATER)
    assert flag_tallies.read(None).counts() == {"overdue": 1}
    assert flag_tallies.rebuild(now=LATER) == 2  # the exporter's key and all exporters'
    assert flag_tallies.read(None).counts() == {} == open_now()
    assert flag_tallies.rebuild(now=LATER) == 0


def open_by_authority_from_flags() -> dict[int, int]:
    return open_now(by="application__authority_id", kind="overdue")


def test_an_applications_flags_are_counted_under_its_authority(exporter, baotou):
    mine = mofcom_application(exporter, submitted="2026-09-20", accepted="2026-09-24")
    mofcom_application(baotou, submitted="2026-09-20", accepted="2026-09-24")
    ecju = authority("ECJU")
    theirs = ApplicationFactory(
        exporter=baotou,
        authority=ecju,
        items=[ecju.items.create(code="ML22", description="Technology")],
    )
    when = at("2026-09-01", 10, tz=LONDON)
    services.application_submit(application=theirs, at=when, now=when, actor=None)
    scan.scan(now=DUE_SOON)
    scan.scan(now=OVERDUE)
    mofcom = authority("MOFCOM")
    assert open_by_authority_from_flags() == {mofcom.pk: 2, ecju.pk: 1}
    assert flag_tallies.read(None).by_authority("overdue") == {mofcom.pk: 2, ecju.pk: 1}
    assert flag_tallies.read([exporter.pk]).by_authority("overdue") == {mofcom.pk: 1}
    assert flag_tallies.read([baotou.pk]).by_authority("overdue") == {mofcom.pk: 1, ecju.pk: 1}
    assert flag_tallies.read([]).by_authority("overdue") == {}
    # a shipment's flags, and the totals by kind, are as before
    assert not FlagTally.objects.filter(kind__in=SHIPMENT_FLAGS, authority__isnull=False)
    assert flag_tallies.read(None).counts()["overdue"] == 3
    # the deltas the scan wrote are what a recount finds, key by key (authority included)
    assert flag_tallies.rebuild(now=LATER) == 0
    # the application moves on: its flag is cleared under its authority
    approve(mine, "2026-12-05")
    assert flag_tallies.read(None).by_authority("overdue") == {mofcom.pk: 1, ecju.pk: 1}
    assert flag_tallies.read([exporter.pk]).by_authority("overdue") == {}
    flag_tallies.compact(now=OVERDUE + dt.timedelta(days=200))
    assert flag_tallies.read(None).by_authority("overdue") == open_by_authority_from_flags()
    assert flag_tallies.rebuild(now=LATER) == 0
