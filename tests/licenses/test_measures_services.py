"""Logging and editing measures through the services: validation, history, the signal."""

import datetime as dt

import pytest

from core.errors import InvalidInput
from licenses import services, signals
from licenses.models import ControlledItem, Measure, MeasureChange
from tests.factories import authority, item

NOW = dt.datetime(2026, 11, 29, 4, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def log(actor=None, **fields) -> Measure:
    values = {
        "authority": authority("MOFCOM"),
        "reference": "TEST 2026 No. 1",
        "title": "Test controls on samarium",
        "kind": "control",
        "announced_on": d("2026-01-05"),
        "effective_from": d("2026-02-01"),
        "items": [item("1C902")],
        "destinations": ["US"],
        "source": "https://example.com/no-1",
    }
    values.update(fields)
    return services.measure_create(actor=actor, now=NOW, **values)


@pytest.fixture
def heard():
    calls = []

    def listener(sender, signal, **kwargs):
        calls.append(kwargs)

    signals.measure_changed.connect(listener, dispatch_uid="test-measures-heard")
    yield calls
    signals.measure_changed.disconnect(dispatch_uid="test-measures-heard")


def test_logging_a_measure_stores_it_and_records_who_created_it(manager, heard):
    m = log(
        actor=manager,
        suspensions=[{"from": "2026-03-01", "until": "2026-03-31", "reference": "No. 2"}],
    )
    assert list(m.items.values_list("code", flat=True)) == ["1C902"]
    assert [(s.starts_on, s.ends_on, s.reference) for s in m.suspensions.all()] == [
        (d("2026-03-01"), d("2026-03-31"), "No. 2")
    ]
    change = MeasureChange.objects.get(measure=m)
    assert (change.action, change.actor, change.changed_at) == ("created", manager, NOW)
    assert change.changes["reference"] == [None, "TEST 2026 No. 1"]
    assert change.changes["suspensions"] == [
        None,
        [{"from": "2026-03-01", "until": "2026-03-31", "reference": "No. 2"}],
    ]
    assert heard == [{"authority_id": m.authority_id, "item_ids": [item("1C902").pk], "now": NOW}]


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"effective_until": d("2026-01-31")}, "effective_until"),
        ({"destinations": ["us"]}, "destinations"),
        ({"destinations": ["USA"]}, "destinations"),
        ({"items": [999999]}, "items"),
        ({"title": ""}, "title"),
        ({"kind": "maybe"}, "kind"),
        ({"suspensions": [{"from": "2026-03-10", "until": "2026-03-01"}]}, "suspensions"),
        ({"suspensions": [{"until": "2026-03-01"}]}, "suspensions"),
        ({"suspensions": [{"from": "2026-03-xx"}]}, "suspensions"),
        (
            {
                "suspensions": [
                    {"from": "2026-03-01", "until": "2026-03-10"},
                    {"from": "2026-03-10", "until": "2026-03-20"},
                ]
            },
            "suspensions",
        ),
        ({"suspensions": [{"from": "2026-03-01"}, {"from": "2027-01-01"}]}, "suspensions"),
    ],
)
def test_it_refuses_an_invalid_measure_naming_the_field(fields, bad, heard):
    with pytest.raises(InvalidInput) as exc:
        log(**fields)
    assert bad in exc.value.fields
    assert not Measure.objects.filter(reference="TEST 2026 No. 1").exists()
    assert heard == []


def test_items_must_be_on_the_measures_authoritys_list():
    bis_item = ControlledItem.objects.create(
        authority=authority("BIS"), code="9Z999", description="x"
    )
    with pytest.raises(InvalidInput) as exc:
        log(items=[bis_item])
    assert "MOFCOM" in exc.value.fields["items"]


def test_a_reference_is_unique_per_authority():
    log()
    with pytest.raises(InvalidInput) as exc:
        log(title="again")
    assert "reference" in exc.value.fields
    log(authority=authority("BIS"), items=[])  # another authority may use it


def test_an_edit_records_old_and_new_values_and_announces_items_before_and_after(manager, heard):
    m = log()
    heard.clear()
    services.measure_update(
        measure=m,
        actor=manager,
        now=NOW + dt.timedelta(days=1),
        change_note="No. 3 ends it",
        effective_until=d("2026-12-31"),
        items=[item("1C903")],
        suspensions=[{"from": "2026-06-01", "until": None, "reference": "No. 3"}],
    )
    change = m.changes.get(action="edited")
    assert change.changes == {
        "effective_until": [None, "2026-12-31"],
        "items": [[item("1C902").pk], [item("1C903").pk]],
        "suspensions": [[], [{"from": "2026-06-01", "until": None, "reference": "No. 3"}]],
    }
    assert (change.actor, change.note) == (manager, "No. 3 ends it")
    assert heard == [
        {
            "authority_id": m.authority_id,
            "item_ids": sorted([item("1C902").pk, item("1C903").pk]),
            "now": NOW + dt.timedelta(days=1),
        }
    ]
    m.refresh_from_db()
    assert m.effective_until == d("2026-12-31")
    assert [s.ends_on for s in m.suspensions.all()] == [None]


def test_an_edit_that_changes_nothing_writes_nothing(manager, heard):
    m = log()
    heard.clear()
    services.measure_update(
        measure=m,
        actor=manager,
        now=NOW,
        title="Test controls on samarium",
        destinations=["US"],
        items=[item("1C902").pk],
        suspensions=[],
    )
    assert m.changes.count() == 1
    assert heard == []


def test_a_title_edit_is_recorded_but_not_announced(manager, heard):
    m = log()
    heard.clear()
    services.measure_update(measure=m, actor=manager, now=NOW, title="Renamed", note="measure note")
    assert m.changes.get(action="edited").changes == {
        "title": ["Test controls on samarium", "Renamed"],
        "note": ["", "measure note"],
    }
    assert heard == []


def test_an_invalid_edit_changes_nothing(manager):
    m = log()
    with pytest.raises(InvalidInput) as exc:
        services.measure_update(measure=m, actor=manager, now=NOW, effective_until=d("2025-01-01"))
    assert "effective_until" in exc.value.fields
    m.refresh_from_db()
    assert m.effective_until is None
    assert m.changes.count() == 1


def test_the_authority_of_a_measure_cannot_change(manager):
    m = log()
    with pytest.raises(InvalidInput) as exc:
        services.measure_update(measure=m, actor=manager, now=NOW, authority=authority("BIS"))
    assert "authority" in exc.value.fields
