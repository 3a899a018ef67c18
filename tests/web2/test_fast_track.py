"""The fast-track log and form: a manager previews what a decision would do (how many pending
applications it would move and by how much, nothing written), logs it only as previewed,
sees its effect on its page, and revokes it with a note. Others may read, not log."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from licenses import services
from licenses.models import FastTrackDecision
from licenses.roles import MANAGER

from ..conftest import make_user
from ..factories import ApplicationFactory, item
from ..web.conftest import ago

pytestmark = pytest.mark.django_db


def under_review(exporter, reference: str, destination: str = "DE"):
    """A MOFCOM application accepted four weeks ago: due 45 Chinese working days later."""
    app = ApplicationFactory(
        exporter=exporter, reference=reference, destination=destination, items=[item("1C902")]
    )
    now = timezone.now()
    services.application_submit(application=app, at=ago(30), now=now, actor=None)
    services.application_accept(application=app, at=ago(28), now=now, actor=None)
    app.refresh_from_db()
    return app


def decision_data(**overrides):
    today = timezone.localdate().isoformat()
    return {
        "authority": "",
        "announced_on": today,
        "source": "Ministerial trade talks, MOFCOM press release",
        "window_days": "20",
        "effective_from": today,
        "effective_until": "",
        "destinations": "de",
        "note": "",
    } | overrides


@pytest.fixture
def mofcom():
    from ..factories import authority

    return authority("MOFCOM")


def preview(client, data):
    response = client.post("/fast-track/new/", data | {"action": "preview"})
    assert response.status_code == 200
    return response


def log(client, data):
    """Preview, then log as previewed."""
    shown = preview(client, data)
    logged = data | {"action": "log", "previewed": fingerprint(shown)}
    return client.post("/fast-track/new/", logged)


def fingerprint(response) -> str:
    return re.search(r'name="previewed" value="([^"]+)"', response.content.decode()).group(1)


def test_the_preview_says_how_many_applications_move_and_by_how_much_and_writes_nothing(
    client, manager, ganzhou, mofcom
):
    moving = under_review(ganzhou, "GZ-FT-1")
    under_review(ganzhou, "GZ-FT-JP", destination="JP")  # outside the scope
    client.force_login(manager)
    page = preview(client, decision_data(authority=mofcom.pk)).content.decode()
    assert "It would move the due date of 1 of the 1 pending applications in its scope." in page
    sample = page.split('class="compact preview-sample"')[1].split("</table>")[0]
    assert "GZ-FT-1" in sample and "GZ-FT-JP" not in sample
    assert "days earlier" in sample
    assert "Log the decision" in page
    assert not FastTrackDecision.objects.exists()
    due = moving.due_at
    moving.refresh_from_db()
    assert moving.due_at == due


def test_logging_as_previewed_moves_the_due_dates_and_shows_the_effect(
    client, manager, ganzhou, mofcom
):
    app = under_review(ganzhou, "GZ-FT-1")
    before = app.due_at
    client.force_login(manager)
    data = decision_data(authority=mofcom.pk)
    shown = preview(client, data)
    response = client.post(
        "/fast-track/new/", data | {"action": "log", "previewed": fingerprint(shown)}
    )
    decision = FastTrackDecision.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/fast-track/{decision.pk}/"
    app.refresh_from_db()
    assert app.due_at < before
    assert app.window_source == f"decision:{decision.pk}"
    page = client.get(response["Location"]).content.decode()
    assert "it moved the due date of 1 pending application" in page
    assert "in force" in page
    assert f'href="/applications/{app.pk}/"' in page
    assert "Revoke this decision" in page
    assert decision.destinations == ["DE"] and decision.created_by == manager


def test_a_form_changed_after_its_preview_is_previewed_again_not_logged(
    client, manager, ganzhou, mofcom
):
    under_review(ganzhou, "GZ-FT-1")
    client.force_login(manager)
    data = decision_data(authority=mofcom.pk)
    shown = preview(client, data)
    response = client.post(
        "/fast-track/new/",
        data | {"window_days": "10", "action": "log", "previewed": fingerprint(shown)},
    )
    assert response.status_code == 200
    assert "The form changed after its preview" in response.content.decode()
    assert not FastTrackDecision.objects.exists()


def test_the_service_refusal_is_shown_on_its_field(client, manager, mofcom):
    client.force_login(manager)
    tomorrow = (timezone.localdate() + __import__("datetime").timedelta(days=2)).isoformat()
    response = preview(
        client, decision_data(authority=mofcom.pk, announced_on=tomorrow, destinations="Germany")
    )
    form = response.context["form"]
    assert "announced_on" in form.errors and "destinations" in form.errors
    assert not FastTrackDecision.objects.exists()


def test_revoking_with_a_note_gives_the_applications_their_windows_back(
    client, manager, ganzhou, mofcom
):
    app = under_review(ganzhou, "GZ-FT-1")
    before = app.due_at
    client.force_login(manager)
    data = decision_data(authority=mofcom.pk)
    log(client, data)
    decision = FastTrackDecision.objects.get()
    refused = client.post(f"/fast-track/{decision.pk}/revoke/", {"note": ""})
    assert refused.status_code == 200 and refused.context["revoke_form"].errors["note"]
    response = client.post(f"/fast-track/{decision.pk}/revoke/", {"note": "Talks broke down"})
    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.revoked_at is not None and decision.revocation_note == "Talks broke down"
    app.refresh_from_db()
    assert app.due_at == before
    page = client.get(f"/fast-track/{decision.pk}/").content.decode()
    assert "Talks broke down" in page and "Revoke this decision" not in page
    assert "fast-track removed" in page


def test_officers_and_viewers_read_the_log_but_may_not_log_or_revoke(
    client, officer, viewer, manager, ganzhou, mofcom
):
    under_review(ganzhou, "GZ-FT-1")
    client.force_login(manager)
    data = decision_data(authority=mofcom.pk)
    log(client, data)
    decision = FastTrackDecision.objects.get()
    for user in (officer, viewer):
        client.force_login(user)
        page = client.get("/fast-track/").content.decode()
        assert f'href="/fast-track/{decision.pk}/"' in page and "Log a decision" not in page
        assert client.get("/fast-track/new/").status_code == 403
        assert client.post("/fast-track/new/", data | {"action": "preview"}).status_code == 403
        detail = client.get(f"/fast-track/{decision.pk}/")
        assert detail.status_code == 200 and "Revoke this decision" not in detail.content.decode()
        assert client.post(f"/fast-track/{decision.pk}/revoke/", {"note": "x"}).status_code == 403
    decision.refresh_from_db()
    assert decision.revoked_at is None


def test_a_limited_manager_names_only_their_exporters_and_others_never_see_it(
    client, ganzhou, baotou, outsider, mofcom
):
    lena = make_user("lena_limited_manager", MANAGER, limited_to=[ganzhou])
    under_review(ganzhou, "GZ-FT-1")
    client.force_login(lena)
    page = client.get("/fast-track/new/").content.decode()
    assert ganzhou.name in page and baotou.name not in page
    response = preview(client, decision_data(authority=mofcom.pk))
    assert "name the exporters this decision is for" in str(response.context["form"].errors)
    refused = preview(client, decision_data(authority=mofcom.pk) | {"exporters": [baotou.pk]})
    assert "exporters" in refused.context["form"].errors
    data = decision_data(authority=mofcom.pk) | {"exporters": [ganzhou.pk]}
    log(client, data)
    decision = FastTrackDecision.objects.get()
    client.force_login(outsider)
    assert client.get(f"/fast-track/{decision.pk}/").status_code == 404
    assert f"/fast-track/{decision.pk}/" not in client.get("/fast-track/").content.decode()


def stored() -> tuple:
    """Everything a refused revocation must leave as it was: due dates, events, decisions."""
    from licenses.models import Event, LicenseApplication

    return (
        list(LicenseApplication.objects.order_by("id").values_list("id", "due_at", "window_days")),
        list(Event.objects.order_by("id").values_list("id", flat=True)),
        list(FastTrackDecision.objects.order_by("id").values_list("id", "revoked_at", "applied")),
    )


@pytest.mark.parametrize("scope", ["all exporters", "theirs and another"])
def test_a_limited_manager_is_not_offered_and_may_not_revoke_a_decision_moving_others(
    client, manager, limited_manager, ganzhou, baotou, mofcom, scope
):
    under_review(ganzhou, "GZ-FT-1")
    under_review(baotou, "BT-FT-1")
    client.force_login(manager)
    exporters = [] if scope == "all exporters" else [ganzhou.pk, baotou.pk]
    log(client, decision_data(authority=mofcom.pk) | {"exporters": exporters})
    decision = FastTrackDecision.objects.get()
    before = stored()
    client.force_login(limited_manager)

    page = client.get(f"/fast-track/{decision.pk}/")
    refused = client.post(f"/fast-track/{decision.pk}/revoke/", {"note": "Talks broke down"})

    assert page.status_code == 200
    assert "Revoke this decision" not in page.content.decode()
    assert f"/fast-track/{decision.pk}/revoke/" not in page.content.decode()
    assert refused.status_code == 404
    assert stored() == before


def test_a_limited_manager_revokes_a_decision_naming_only_their_exporter(
    client, manager, limited_manager, ganzhou, mofcom
):
    app = under_review(ganzhou, "GZ-FT-1")
    before = app.due_at
    client.force_login(manager)
    log(client, decision_data(authority=mofcom.pk) | {"exporters": [ganzhou.pk]})
    decision = FastTrackDecision.objects.get()
    client.force_login(limited_manager)

    page = client.get(f"/fast-track/{decision.pk}/").content.decode()
    response = client.post(f"/fast-track/{decision.pk}/revoke/", {"note": "Talks broke down"})

    assert "Revoke this decision" in page
    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.revoked_by == limited_manager
    app.refresh_from_db()
    assert app.due_at == before


def test_the_log_counts_for_a_limited_user_only_their_applications(
    client, manager, limited, ganzhou, baotou, mofcom
):
    under_review(ganzhou, "GZ-FT-1")
    under_review(baotou, "BT-FT-1")
    under_review(baotou, "BT-FT-2")
    client.force_login(manager)
    log(client, decision_data(authority=mofcom.pk))
    [everyone] = client.get("/fast-track/").context["rows"]
    client.force_login(limited)
    [theirs] = client.get("/fast-track/").context["rows"]
    assert (everyone["affected"], theirs["affected"]) == (3, 1)
