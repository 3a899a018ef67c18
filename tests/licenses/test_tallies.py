"""Status tallies: written with the events of every change of state, read as sums, compacted
and reconciled; the dashboard's counts and pending-by-authority come from them."""

from __future__ import annotations

import pytest

from licenses import services, tallies
from licenses.models import LicenseApplication, StatusTally
from monitoring import dashboard
from shipments import services as shipping
from shipments.models import Shipment

from ..factories import ApplicationFactory, ShipmentFactory, authority
from ..helpers import NOW, at
from .test_moves import put_in

pytestmark = pytest.mark.django_db


def recount(exporter=None) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {"application": {}, "shipment": {}}
    for subject, model in (("application", LicenseApplication), ("shipment", Shipment)):
        qs = model.objects.all() if exporter is None else model.objects.filter(exporter=exporter)
        for status in qs.values_list("status", flat=True):
            out[subject][status] = out[subject].get(status, 0) + 1
    return out


@pytest.mark.parametrize(
    "status", ["submitted", "accepted", "approved", "rejected", "suspended", "returned"]
)
def test_every_move_keeps_the_tallies_equal_to_a_count(status):
    put_in(status)
    assert tallies.counts(None) == recount()
    assert tallies.drift() == {}


def test_shipments_that_follow_their_application_are_counted_where_they_went(ganzhou):
    app = ApplicationFactory(exporter=ganzhou)
    goods = ShipmentFactory(exporter=ganzhou, application=app)
    services.application_submit(application=app, at=at("2026-09-01"), now=NOW, actor=None)
    goods.refresh_from_db()
    assert goods.status == "awaiting_license"
    assert tallies.counts(None)["shipment"] == {"awaiting_license": 1}
    shipping.shipment_cancel(shipment=goods, at=at("2026-09-02"), now=NOW, actor=None)
    assert tallies.counts(None)["shipment"] == {"cancelled": 1}
    assert tallies.drift() == {}


def test_an_undone_move_is_uncounted(ganzhou):
    app = put_in("accepted")
    services.application_correct(application=app, now=NOW, actor=None, note="wrong", undo=True)
    assert tallies.counts(None)["application"] == {"submitted": 1}
    assert tallies.drift() == {}


def test_a_user_who_sees_every_exporter_reads_the_all_exporters_rows():
    apps = [put_in(status) for status in ("approved", "accepted", "submitted")]
    exporters = [app.exporter_id for app in apps]
    ShipmentFactory(exporter=apps[0].exporter)
    each = tallies.sums(exporters)
    assert tallies.sums(None) == each and each
    assert tallies.counts(None) == recount()
    # written with every delta: the all-exporters rows alone are the counts
    every = StatusTally.objects.filter(exporter__isnull=True)
    assert sum(every.values_list("n", flat=True)) == LicenseApplication.objects.count() + 1
    tallies.compact()
    assert every.count() == len(tallies.sums(None))  # one row per key once folded
    assert tallies.sums(None) == tallies.sums(exporters)


def test_compaction_folds_each_key_into_one_row_and_keeps_the_sums():
    put_in("approved")  # created, submitted, accepted, approved: several rows per key
    before = tallies.counts(None)
    rows = StatusTally.objects.count()
    folded = tallies.compact()
    assert folded > 0
    assert StatusTally.objects.count() < rows
    assert tallies.counts(None) == before
    # one row per key, none zero
    keys = list(StatusTally.objects.values_list("exporter", "authority", "subject", "status"))
    assert len(keys) == len(set(keys)) and not StatusTally.objects.filter(n=0).exists()
    assert tallies.compact() == 0


def test_a_recount_corrects_and_reports_drift(ganzhou):
    app = ApplicationFactory(exporter=ganzhou)
    # A path that bypasses the services (and so writes no event): the tally is wrong.
    LicenseApplication.objects.filter(pk=app.pk).update(status="submitted")
    key = (ganzhou.pk, app.authority_id, "application", "draft")
    every = (None, *key[1:])  # all exporters' key
    drifted = {key: 1, (*key[:3], "submitted"): -1, every: 1, (*every[:3], "submitted"): -1}
    assert tallies.drift() == drifted
    assert tallies.rebuild() == drifted
    assert tallies.drift() == {}
    assert tallies.counts(None)["application"] == {"submitted": 1}


def test_the_dashboard_counts_only_what_the_user_may_see(limited, manager, ganzhou, baotou):
    mine = ApplicationFactory(exporter=ganzhou)
    services.application_submit(application=mine, at=at("2026-09-01"), now=NOW, actor=None)
    ApplicationFactory(exporter=baotou)
    ApplicationFactory(exporter=baotou, authority=authority("BIS"))
    ShipmentFactory(exporter=baotou)

    def shown(user) -> dict[str, dict[str, int]]:
        counts = dashboard.status_counts(user=user)
        return {
            subject: {t.code: t.count for t in tallied if t.count}
            for subject, tallied in counts.items()
        }

    assert shown(limited) == {"applications": {"submitted": 1}, "shipments": {}}
    assert shown(manager) == {
        "applications": {"submitted": 1, "draft": 2},
        "shipments": {"planned": 1},
    }
    by_authority = dashboard.pending_by_authority(user=limited)
    assert [(row.code, row.pending) for row in by_authority] == [("MOFCOM", 1)]
