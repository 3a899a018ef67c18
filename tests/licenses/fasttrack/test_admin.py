"""The back-office for the fast-track log and review-window rules: managers log decisions after
a preview and revoke them, officers and viewers only look; rules are retired, not deleted."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from licenses.fasttrack import decision_revoke
from licenses.models import Event, EventKind, FastTrackDecision, WindowRule
from licenses.rules import rule_create

from ...factories import authority, item
from ...helpers import NOW, local_due
from .builders import D, log, pending

pytestmark = pytest.mark.django_db

ADD = reverse("admin:licenses_fasttrackdecision_add")


def decision_form(**changes):
    data = {
        "authority": authority().pk,
        "announced_on": "2026-10-30",
        "source": "MOFCOM press release after the ministerial talks",
        "window_days": "20",
        "effective_from": "2026-11-01",
        "effective_until": "",
        "destinations": "us",
        "items": [item("1C902").pk],
        "note": "",
    }
    data.update(changes)
    return data


def test_a_manager_previews_a_decision_then_logs_it(client, manager):
    app = pending(destination="US")
    elsewhere = pending(destination="DE")
    client.force_login(manager)
    page = client.get(ADD)
    assert page.status_code == 200
    assert b'name="_preview"' in page.content

    preview = client.post(ADD, {**decision_form(), "_preview": "Preview"})

    assert preview.status_code == 200
    assert preview.context["preview"].count == 1
    assert preview.context["preview_rows"][0]["reference"] == app.reference
    assert preview.context["preview_rows"][0]["new"] == D("2026-10-29")
    assert b"Preview" in preview.content and b"not saved yet" in preview.content
    assert not FastTrackDecision.objects.exists()
    assert not Event.objects.filter(kind=EventKind.FAST_TRACK_APPLIED).exists()

    saved = client.post(ADD, decision_form())

    assert saved.status_code == 302
    decision = FastTrackDecision.objects.get()
    assert decision.created_by == manager and decision.destinations == ["US"]
    assert decision.applied and decision.affected_count == 1
    app.refresh_from_db()
    elsewhere.refresh_from_db()
    assert local_due(app) == D("2026-10-29") and local_due(elsewhere) == D("2026-12-03")
    assert Event.objects.get(kind=EventKind.FAST_TRACK_APPLIED).actor == manager


def test_the_preview_shows_field_errors_and_saves_nothing(client, manager):
    client.force_login(manager)
    page = client.post(
        ADD, {**decision_form(window_days="0", destinations="USA"), "_preview": "Preview"}
    )
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert "window_days" in form.errors and "destinations" in form.errors
    assert "preview" not in page.context
    assert not FastTrackDecision.objects.exists()


def test_an_invalid_decision_is_not_saved(client, manager):
    client.force_login(manager)
    page = client.post(ADD, decision_form(effective_until="2026-10-01"))
    assert page.status_code == 200
    assert "effective_until" in page.context["adminform"].form.errors
    assert not FastTrackDecision.objects.exists()


def test_the_decision_page_shows_its_effect_and_progress_and_a_revoke_button(client, manager):
    pending(destination="US")
    decision = log(destinations=["US"], actor=manager)
    client.force_login(manager)
    page = client.get(reverse("admin:licenses_fasttrackdecision_change", args=[decision.pk]))
    assert page.status_code == 200
    assert page.context["effect"].affected_count == 1
    assert page.context["effect"].median_change_days == -35
    assert b"Progress: 1 of 1" in page.content
    revoke = reverse("admin:licenses_fasttrackdecision_revoke", args=[decision.pk])
    assert revoke.encode() in page.content
    # the window, period and scope are fixed once logged; only the wording can change
    assert set(page.context["adminform"].form.fields) == {"source", "note"}


def test_a_manager_revokes_a_decision_through_the_service(client, manager):
    app = pending(destination="US")
    decision = log(destinations=["US"], actor=manager)
    client.force_login(manager)
    url = reverse("admin:licenses_fasttrackdecision_revoke", args=[decision.pk])
    assert client.get(url).status_code == 200

    response = client.post(url, {"note": "MOFCOM withdrew the green channel"})

    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.revoked_by == manager
    assert decision.revocation_note == "MOFCOM withdrew the green channel"
    app.refresh_from_db()
    assert local_due(app) == D("2026-12-03")
    assert Event.objects.filter(decision=decision, kind=EventKind.FAST_TRACK_REMOVED).count() == 1
    # a second time is refused with a message and changes nothing
    again = client.post(url, {"note": "again"}, follow=True)
    assert any("already revoked" in str(m) for m in again.context["messages"])


def test_decisions_cannot_be_deleted_even_by_a_superuser(client, superuser):
    decision = log()
    client.force_login(superuser)
    url = reverse("admin:licenses_fasttrackdecision_delete", args=[decision.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert FastTrackDecision.objects.filter(pk=decision.pk).exists()


def test_an_officer_can_read_the_log_but_not_log_or_revoke(client, officer):
    decision = log()
    client.force_login(officer)
    assert client.get(reverse("admin:licenses_fasttrackdecision_changelist")).status_code == 200
    page = client.get(reverse("admin:licenses_fasttrackdecision_change", args=[decision.pk]))
    assert page.status_code == 200
    assert b"/revoke/" not in page.content
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, {**decision_form(), "_preview": "1"}).status_code == 403
    revoke = reverse("admin:licenses_fasttrackdecision_revoke", args=[decision.pk])
    assert client.post(revoke, {"note": "x"}).status_code == 403
    decision.refresh_from_db()
    assert decision.revoked_at is None


def test_a_viewer_is_kept_out(client, viewer):
    decision = log()
    client.force_login(viewer)
    revoke = reverse("admin:licenses_fasttrackdecision_revoke", args=[decision.pk])
    assert client.post(revoke, {}).status_code == 302  # to the sign-in page: not staff
    decision.refresh_from_db()
    assert decision.revoked_at is None


def test_a_limited_user_counts_only_their_exporters_in_the_list(
    client, manager, limited, ganzhou, baotou
):
    pending(exporter=ganzhou, accepted_on="2026-11-02")
    pending(exporter=baotou)
    pending(exporter=baotou)
    decision = log()
    assert (decision.affected_count, decision.median_change_days) == (3, Decimal("-35.0"))
    [mine] = Event.objects.filter(
        kind=EventKind.FAST_TRACK_APPLIED, application__exporter=ganzhou
    ).values_list("data__change_days", flat=True)
    client.force_login(limited)
    page = client.get(reverse("admin:licenses_fasttrackdecision_changelist")).content.decode()
    assert '<td class="field-moved">1</td>' in page
    assert f'<td class="field-median">{mine}.0</td>' in page
    client.force_login(manager)
    page = client.get(reverse("admin:licenses_fasttrackdecision_changelist")).content.decode()
    assert '<td class="field-moved">3</td>' in page
    assert '<td class="field-median">-35.0</td>' in page


def test_the_revoke_action_goes_through_the_service(client, manager):
    app = pending()
    decision = log()
    client.force_login(manager)
    client.post(
        reverse("admin:licenses_fasttrackdecision_changelist"),
        {"action": "revoke_selected", "_selected_action": [decision.pk]},
    )
    decision.refresh_from_db()
    assert decision.revoked_at is not None
    app.refresh_from_db()
    assert local_due(app) == D("2026-12-03")


# --- rules ----------------------------------------------------------------------------------


RULE_ADD = reverse("admin:licenses_windowrule_add")


def test_a_manager_adds_a_rule_and_the_due_dates_it_governs_move(client, manager):
    us = pending(destination="US")
    de = pending(destination="DE")
    client.force_login(manager)
    response = client.post(
        RULE_ADD,
        {"authority": authority().pk, "destination": "us", "window_days": "30", "note": ""},
    )
    assert response.status_code == 302
    rule = WindowRule.objects.get()
    assert rule.destination == "US" and rule.created_by == manager
    us.refresh_from_db()
    de.refresh_from_db()
    assert local_due(us) == D("2026-11-12") and local_due(de) == D("2026-12-03")
    event = Event.objects.get(kind=EventKind.DUE_DATE_CHANGED, data__rule=rule.pk)
    assert event.application == us and event.actor == manager


def test_a_manager_changes_a_rule_through_the_service(client, manager):
    us = pending(destination="US")
    rule = rule_create(authority=authority(), destination="US", window_days=30, actor=None, now=NOW)
    client.force_login(manager)
    url = reverse("admin:licenses_windowrule_change", args=[rule.pk])
    response = client.post(url, {"destination": "US", "window_days": "60", "note": "slower"})
    assert response.status_code == 302
    us.refresh_from_db()
    assert local_due(us) == D("2026-12-24")


def test_an_invalid_rule_is_refused_next_to_its_field(client, manager):
    authority("BIS").items.create(code="3A001", description="Electronics")
    client.force_login(manager)
    page = client.post(
        RULE_ADD,
        {
            "authority": authority().pk,
            "item": item("3A001").pk,
            "window_days": "30",
            "destination": "",
        },
    )
    assert page.status_code == 200
    assert "item" in page.context["adminform"].form.errors
    assert not WindowRule.objects.exists()


def test_rules_are_retired_not_deleted(client, manager):
    us = pending(destination="US")
    rule = rule_create(authority=authority(), destination="US", window_days=30, actor=None, now=NOW)
    client.force_login(manager)
    delete = reverse("admin:licenses_windowrule_delete", args=[rule.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    client.post(
        reverse("admin:licenses_windowrule_changelist"),
        {"action": "retire_selected", "_selected_action": [rule.pk]},
    )
    rule.refresh_from_db()
    assert rule.retired_at is not None
    us.refresh_from_db()
    assert local_due(us) == D("2026-12-03")
    # a retired rule is kept as it was
    change = reverse("admin:licenses_windowrule_change", args=[rule.pk])
    client.post(change, {"destination": "US", "window_days": "5"})
    rule.refresh_from_db()
    assert rule.window_days == 30


def test_an_officer_cannot_add_or_change_rules(client, officer):
    rule = rule_create(authority=authority(), destination="US", window_days=30, actor=None, now=NOW)
    client.force_login(officer)
    assert client.get(RULE_ADD).status_code == 403
    change = reverse("admin:licenses_windowrule_change", args=[rule.pk])
    assert client.get(change).status_code == 200  # read only
    client.post(change, {"destination": "US", "window_days": "5"})
    rule.refresh_from_db()
    assert rule.window_days == 30


def test_revoking_in_the_admin_is_refused_twice_by_the_service_too(manager):
    decision = log()
    decision_revoke(decision=decision, actor=manager, now=NOW)
    from core.errors import IllegalMove

    with pytest.raises(IllegalMove):
        decision_revoke(decision=decision, actor=manager, now=NOW)


def test_a_manager_corrects_the_wording_of_a_logged_decision(client, manager):
    app = pending()
    decision = log()
    client.force_login(manager)
    url = reverse("admin:licenses_fasttrackdecision_change", args=[decision.pk])
    response = client.post(url, {"source": "MOFCOM press release No. 12", "note": "typo fixed"})
    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.source == "MOFCOM press release No. 12" and decision.note == "typo fixed"
    assert decision.window_days == 20 and decision.applied
    app.refresh_from_db()
    assert local_due(app) == D("2026-10-29")


# --- a manager limited to some exporters -----------------------------------------------------


def stored() -> tuple:
    """Everything a refused write must leave as it was: due dates, events, decisions."""
    from licenses.models import LicenseApplication

    return (
        list(LicenseApplication.objects.order_by("id").values_list("id", "due_at", "window_days")),
        list(Event.objects.order_by("id").values_list("id", flat=True)),
        list(
            FastTrackDecision.objects.order_by("id").values_list(
                "id", "source", "note", "revoked_at", "applied"
            )
        ),
    )


@pytest.mark.parametrize("scope", ["all exporters", "theirs and another"])
def test_the_admin_refuses_a_limited_manager_a_decision_moving_other_exporters(
    client, manager, limited_manager, ganzhou, baotou, scope
):
    pending(exporter=ganzhou)
    pending(exporter=baotou)
    decision = log(actor=manager, exporters=[] if scope == "all exporters" else [ganzhou, baotou])
    before = stored()
    client.force_login(limited_manager)
    change = reverse("admin:licenses_fasttrackdecision_change", args=[decision.pk])
    revoke = reverse("admin:licenses_fasttrackdecision_revoke", args=[decision.pk])

    page = client.get(change)
    reworded = client.post(change, {"source": "Reworded", "note": ""})
    acted = client.post(
        reverse("admin:licenses_fasttrackdecision_changelist"),
        {"action": "revoke_selected", "_selected_action": [decision.pk]},
        follow=True,
    )

    assert page.status_code == 200 and b"/revoke/" not in page.content
    assert not page.context["has_change_permission"]
    assert reworded.status_code == 403
    assert client.get(revoke).status_code == 404
    assert client.post(revoke, {"note": "x"}).status_code == 404
    assert any("all of them yours" in str(m) for m in acted.context["messages"])
    assert stored() == before


def test_the_admin_lets_a_limited_manager_revoke_a_decision_naming_only_their_exporter(
    client, manager, limited_manager, ganzhou
):
    app = pending(exporter=ganzhou)
    decision = log(actor=manager, exporters=[ganzhou])
    client.force_login(limited_manager)
    change = reverse("admin:licenses_fasttrackdecision_change", args=[decision.pk])
    assert b"/revoke/" in client.get(change).content
    url = reverse("admin:licenses_fasttrackdecision_revoke", args=[decision.pk])
    assert client.post(url, {"note": "talks failed"}).status_code == 302
    decision.refresh_from_db()
    assert decision.revoked_by == limited_manager
    app.refresh_from_db()
    assert local_due(app) == D("2026-12-03")
