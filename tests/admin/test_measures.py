"""Measures in the back-office: added and changed through the services (suspensions from the
inline), the history read-only, never deleted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from licenses.models import Measure
from tests.factories import authority, item

from .forms import form_data

pytestmark = pytest.mark.django_db

ADD = reverse("admin:licenses_measure_add")


def add_data(**changes):
    data = {
        "authority": authority("MOFCOM").pk,
        "reference": "TEST 2026 No. 5",
        "title": "Test measure",
        "kind": "control",
        "announced_on": "2026-01-02",
        "effective_from": "2026-02-01",
        "effective_until": "",
        "items": [item("1C902").pk],
        "destinations": "US, jp",
        "source": "https://example.com/5",
        "note": "",
        "change_note": "",
        "suspensions-TOTAL_FORMS": "1",
        "suspensions-INITIAL_FORMS": "0",
        "suspensions-MIN_NUM_FORMS": "0",
        "suspensions-MAX_NUM_FORMS": "1000",
        "suspensions-0-starts_on": "2026-03-01",
        "suspensions-0-ends_on": "2026-03-31",
        "suspensions-0-reference": "No. 6",
        "changes-TOTAL_FORMS": "0",
        "changes-INITIAL_FORMS": "0",
        "changes-MIN_NUM_FORMS": "0",
        "changes-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_a_manager_adds_a_measure_through_the_service(client, manager):
    client.force_login(manager)
    response = client.post(ADD, add_data(destinations="US"))
    assert response.status_code == 302, response.context and response.context["errors"]
    m = Measure.objects.get(reference="TEST 2026 No. 5")
    assert m.destinations == ["US"]
    assert [(s.starts_on, s.reference) for s in m.suspensions.all()] == [
        (dt.date(2026, 3, 1), "No. 6")
    ]
    change = m.changes.get()
    assert (change.action, change.actor) == ("created", manager)


def test_the_services_refusal_shows_on_the_form_and_saves_nothing(client, manager):
    client.force_login(manager)
    response = client.post(ADD, add_data())  # "jp" is not upper case
    assert response.status_code == 200
    assert "destinations" in response.context["adminform"].form.errors
    assert not Measure.objects.filter(reference="TEST 2026 No. 5").exists()


def test_a_manager_changes_a_measure_and_its_suspension(client, manager):
    client.force_login(manager)
    m = Measure.objects.get(reference="MOFCOM/GAC 2025 No. 57")
    url = reverse("admin:licenses_measure_change", args=[m.pk])
    page = client.get(url)
    assert "authority" not in page.context["adminform"].form.fields
    data = form_data(
        page, **{"suspensions-0-ends_on": "2026-11-30", "change_note": "No. 70 extended"}
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    m.refresh_from_db()
    assert [s.ends_on for s in m.suspensions.all()] == [dt.date(2026, 11, 30)]
    change = m.changes.get(action="edited")
    assert change.changes == {
        "suspensions": [
            [{"from": "2025-11-07", "until": "2026-11-10", "reference": "MOFCOM 2025 No. 70"}],
            [{"from": "2025-11-07", "until": "2026-11-30", "reference": "MOFCOM 2025 No. 70"}],
        ]
    }
    assert (change.actor, change.note) == (manager, "No. 70 extended")


def test_measures_are_never_deleted_and_officers_only_read(client, superuser, officer):
    m = Measure.objects.get(reference="MOFCOM/GAC 2025 No. 18")
    client.force_login(superuser)
    assert client.get(reverse("admin:licenses_measure_delete", args=[m.pk])).status_code == 403
    client.force_login(officer)
    assert client.get(reverse("admin:licenses_measure_changelist")).status_code == 200
    assert client.get(ADD).status_code == 403


def test_a_manager_limited_to_some_exporters_only_reads_measures(client, limited_manager):
    m = Measure.objects.get(reference="MOFCOM/GAC 2025 No. 18")
    client.force_login(limited_manager)
    assert client.get(ADD).status_code == 403
    url = reverse("admin:licenses_measure_change", args=[m.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert client.post(url, {"title": "Edited"}).status_code == 403
    m.refresh_from_db()
    assert m.title != "Edited"
