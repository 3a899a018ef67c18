"""The fast-track form's preview shows what logging the decision sets off at once — due dates
moved earlier or later, applications overdue or due soon at once, shipments at risk, e-mails
and their recipients — and logging then does exactly that. The pickers are plain multi-selects
that a script enhances; without it the form works as it is. In English and Chinese."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.conf import settings

from licenses.models import Event, EventKind, FastTrackDecision, LicenseApplication
from monitoring import scan
from monitoring.models import Alert, Flag
from shipments.models import Shipment

from ..factories import ShipmentFactory, authority, item
from ..web.conftest import ago
from .test_fast_track import decision_data, fingerprint, preview, under_review

pytestmark = pytest.mark.django_db


def figure(page: str, name: str) -> int:
    found = re.search(rf'<dd data-figure="{name}">\s*(\d+)', page)
    assert found, f"no figure {name}"
    return int(found.group(1))


def recipients_shown(page: str) -> int:
    block = re.search(r'<dd data-figure="emails">(.*?)</dd>', page, re.S).group(1)
    numbers = re.findall(r"\d+", block)
    return int(numbers[1]) if len(numbers) > 1 else 0


@pytest.fixture
def mofcom():
    return authority("MOFCOM")


@pytest.fixture
def busy(ganzhou, baotou):
    """Three applications accepted four weeks ago, due in about five weeks; a shipment waiting
    on one of them is planned before that (at risk). With a window of 10 working days all
    three are overdue at once, and the shipment is no longer at risk."""
    apps = [
        under_review(ganzhou, "GZ-FT-1"),
        under_review(baotou, "BT-FT-1"),
        under_review(ganzhou, "GZ-FT-2"),
    ]
    ShipmentFactory(
        exporter=ganzhou,
        application=apps[2],
        status="awaiting_license",
        planned_ship_date=ago(-20).date(),
    )
    scan.scan(now=ago())
    assert Flag.objects.filter(kind="at_risk", cleared_at__isnull=True).count() == 1
    return apps


def what_logging_did(open_before, flags_before):
    decision = FastTrackDecision.objects.get()
    moves = Event.objects.filter(decision=decision, kind=EventKind.FAST_TRACK_APPLIED)
    raised = Counter(Flag.objects.filter(pk__gt=flags_before).values_list("kind", flat=True))
    cleared = Counter(
        Flag.objects.filter(pk__in=open_before, cleared_at__isnull=False).values_list(
            "kind", flat=True
        )
    )
    alerts = Alert.objects.filter(flag__pk__gt=flags_before)
    return {
        "moved": moves.count(),
        "overdue": raised["overdue"],
        "due_soon": raised["due_soon"],
        "at_risk": raised["at_risk"],
        "no_longer_at_risk": cleared["at_risk"],
        "emails": alerts.count(),
        "recipients": len(set(alerts.values_list("recipient", flat=True))),
    }


def test_the_preview_shows_the_consequences_and_logging_does_exactly_that(
    client, manager, busy, mofcom
):
    client.force_login(manager)
    data = decision_data(authority=mofcom.pk, window_days="10")
    shown = preview(client, data)
    page = shown.content.decode()
    figures = {
        name: figure(page, name)
        for name in ("moved", "overdue", "due_soon", "at_risk", "no_longer_at_risk", "emails")
    }
    figures["recipients"] = recipients_shown(page)
    assert figures["moved"] == 3 and figures["overdue"] == 3
    assert figures["no_longer_at_risk"] == 1 and figures["emails"] > 0
    assert "E-mails cannot be recalled" in page
    sample = page.split('class="compact consequence-sample"')[1].split("</table>")[0]
    assert all(app.reference in sample for app in busy)
    assert sample.count("<td>overdue</td>") == 3
    assert not FastTrackDecision.objects.exists()

    flags_before = Flag.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    open_before = list(Flag.objects.filter(cleared_at__isnull=True).values_list("pk", flat=True))
    alerts_before = Alert.objects.count()
    response = client.post(
        "/fast-track/new/", data | {"action": "log", "previewed": fingerprint(shown)}
    )
    assert response.status_code == 302
    assert Alert.objects.count() - alerts_before == figures["emails"]
    assert what_logging_did(open_before, flags_before) == figures


def test_the_preview_writes_nothing(client, manager, busy, mofcom):
    client.force_login(manager)
    state = (
        Event.objects.count(),
        Flag.objects.count(),
        Alert.objects.count(),
        sorted(LicenseApplication.objects.values_list("pk", "due_at")),
        sorted(Shipment.objects.values_list("pk", "deadline__file_by_date")),
    )
    preview(client, decision_data(authority=mofcom.pk, window_days="10"))
    assert not FastTrackDecision.objects.exists()
    assert state == (
        Event.objects.count(),
        Flag.objects.count(),
        Alert.objects.count(),
        sorted(LicenseApplication.objects.values_list("pk", "due_at")),
        sorted(Shipment.objects.values_list("pk", "deadline__file_by_date")),
    )


def test_a_decision_starting_later_says_logging_changes_nothing_now(client, manager, busy, mofcom):
    client.force_login(manager)
    later = ago(-10).date().isoformat()
    page = preview(
        client, decision_data(authority=mofcom.pk, window_days="10", effective_from=later)
    ).content.decode()
    assert "It is not in force today: logging it changes no due date, flag or e-mail now." in page
    assert 'data-figure="emails"' not in page


def test_the_preview_in_chinese(client, manager, busy, mofcom):
    client.force_login(manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = preview(client, decision_data(authority=mofcom.pk, window_days="10")).content.decode()
    assert '<html lang="zh-hans">' in page
    assert "记录后立即产生的影响" in page
    assert "邮件一经发出便无法撤回" in page
    assert 'data-picker-filter="输入以筛选"' in page


def test_without_javascript_the_multi_selects_submit_the_chosen_values(
    client, manager, ganzhou, baotou, mofcom
):
    """The pickers are real <select multiple> fields marked for the script: a browser with no
    script posts their values as it always did."""
    gz = under_review(ganzhou, "GZ-FT-1")
    under_review(baotou, "BT-FT-1")
    client.force_login(manager)
    form = client.get("/fast-track/new/").content.decode()
    assert '<script src="/static/js/picker.js" defer></script>' in form
    for name in ("items", "exporters", "applications"):
        tag = re.search(rf'<select name="{name}"[^>]*>', form).group(0)
        assert "multiple" in tag and "data-picker" in tag
        assert 'data-picker-filter="Type to filter"' in tag
    data = decision_data(authority=mofcom.pk, destinations="") | {
        "items": [str(item("1C902").pk), str(item("1C903").pk)],
        "exporters": [str(ganzhou.pk)],
        "applications": [str(gz.pk)],
    }
    shown = preview(client, data)
    page = shown.content.decode()
    assert figure(page, "moved") == 1
    client.post("/fast-track/new/", data | {"action": "log", "previewed": fingerprint(shown)})
    decision = FastTrackDecision.objects.get()
    assert set(decision.items.values_list("code", flat=True)) == {"1C902", "1C903"}
    assert list(decision.exporters.all()) == [ganzhou]
    assert list(decision.applications.all()) == [gz]


def test_the_alert_settings_tick_boxes_carry_the_filter_hook(client, officer, ganzhou):
    client.force_login(officer)
    page = client.get("/settings/alerts/").content.decode()
    assert 'class="picker-group"' in page
    assert page.count('name="watched_exporters"') >= 1
