"""The Chinese measures of 2023-2025 are there after the migrations, with their items (codes
inferred said so) and suspensions, each with its "created" history row."""

import datetime as dt

import pytest

from licenses.measures import periods, status_on
from licenses.models import ControlledItem, Measure

pytestmark = pytest.mark.django_db


def seeded(reference: str) -> Measure:
    return Measure.objects.get(authority__code="MOFCOM", reference=reference)


def test_no_57_names_holmium_and_is_suspended_until_10_november_2026():
    m = seeded("MOFCOM/GAC 2025 No. 57")
    assert set(m.items.values_list("code", flat=True)) == {
        "1C909",
        "1C910",
        "1C911",
        "1C912",
        "1C913",
    }
    (s,) = m.suspensions.all()
    assert (s.starts_on, s.ends_on, s.reference) == (
        dt.date(2025, 11, 7),
        dt.date(2026, 11, 10),
        "MOFCOM 2025 No. 70",
    )
    assert m.effective_from == dt.date(2025, 11, 8)
    assert periods(m, [s]) == [(dt.date(2026, 11, 11), None)]


def test_every_seeded_measure_has_a_source_and_its_created_row():
    measures = Measure.objects.filter(authority__code="MOFCOM")
    references = set(measures.values_list("reference", flat=True))
    assert {
        "MOFCOM/GAC 2023 No. 23",
        "MOFCOM/GAC 2023 No. 39",
        "MOFCOM/GAC 2024 No. 33",
        "MOFCOM 2024 No. 51",
        "MOFCOM 2024 No. 46",
        "MOFCOM/GAC 2025 No. 10",
        "MOFCOM/GAC 2025 No. 18",
        "MOFCOM/GAC 2025 No. 55",
        "MOFCOM/GAC 2025 No. 56",
        "MOFCOM/GAC 2025 No. 57",
        "MOFCOM/GAC 2025 No. 58",
        "MOFCOM 2025 No. 61",
        "MOFCOM 2025 No. 62",
    } <= references
    for m in measures:
        assert m.source
        change = m.changes.get()
        assert (change.action, change.actor) == ("created", None)
        assert change.changes["reference"] == [None, m.reference]


def test_the_items_of_no_18_and_no_10_and_the_us_ban():
    assert set(seeded("MOFCOM/GAC 2025 No. 18").items.values_list("code", flat=True)) == {
        f"1C90{n}" for n in range(2, 9)
    }
    assert set(seeded("MOFCOM/GAC 2025 No. 10").items.values_list("code", flat=True)) == {
        "1C117.c",
        "1C117.d",
    }
    ban = seeded("MOFCOM 2024 No. 46")
    assert (ban.kind, ban.destinations) == ("ban", ["US"])
    suspensions = list(ban.suspensions.all())
    assert status_on(ban, suspensions, dt.date(2026, 11, 27)) == "suspended"
    assert status_on(ban, suspensions, dt.date(2026, 11, 28)) == "in_force"
    ended = seeded("MOFCOM/GAC 2023 No. 23")
    assert status_on(ended, [], dt.date(2024, 12, 1)) == "ended"


def test_items_are_not_duplicated_and_inferred_codes_say_so():
    assert ControlledItem.objects.filter(code="1C902").count() == 1
    assert "inferred" in ControlledItem.objects.get(code="1C905").description
    assert "inferred" in ControlledItem.objects.get(code="1C913").description
    assert "inferred" not in ControlledItem.objects.get(code="1C904").description
    assert set(seeded("MOFCOM 2025 No. 62").items.values_list("code", flat=True)) == {
        "1E902.a",
        "1E902.b",
    }
