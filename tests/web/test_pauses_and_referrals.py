"""The application page and list with pauses and their reasons, the reply deadline, referral,
return and resubmission; the CSV export's new columns; the admin's new moves."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo

import pytest
from django.utils import timezone

from licenses import services
from licenses.models import LicenseApplication

from ..factories import ApplicationFactory, authority
from .conftest import ago

pytestmark = pytest.mark.django_db


def local(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M")


def page(client, app) -> str:
    return client.get(f"/applications/{app.pk}/").content.decode()


def test_requesting_information_offers_the_reasons_and_shows_the_pause(client, officer, world):
    app = world.mine.application
    client.force_login(officer)
    html = page(client, app)
    assert 'name="reason"' in html and 'value="expert_review"' in html
    response = client.post(
        f"/applications/{app.pk}/request-info/",
        {"at": local(ago(1)), "reason": "expert_review", "note": "Panel review"},
        follow=True,
    )
    assert response.status_code == 200
    app.refresh_from_db()
    assert (app.status, app.pause_reason) == ("info_requested", "expert_review")
    html = page(client, app)
    assert "Pause reason" in html and "expert review" in html
    assert "Why the clock stops: expert review" in html  # the timeline


def test_an_ecju_request_shows_its_reply_deadline(client, officer, world):
    ecju = authority("ECJU")
    app = ApplicationFactory(
        exporter=world.mine.exporter,
        authority=ecju,
        items=[ecju.items.create(code="ML22", description="T")],
    )
    now = timezone.now()
    services.application_submit(application=app, at=ago(3), now=now, actor=None)
    services.application_request_info(application=app, at=ago(2), now=now, actor=None)
    client.force_login(officer)
    html = page(client, app)
    due = (
        app.reply_due_at.astimezone(zoneinfo.ZoneInfo("Europe/London"))
        - dt.timedelta(microseconds=1)
    ).date()
    assert "Reply due" in html and due.isoformat() in html and "20 working days" in html


def test_referring_returning_and_resubmitting_from_the_page(client, officer, world):
    app = world.mine.application
    client.force_login(officer)
    response = client.post(
        f"/applications/{app.pk}/refer/",
        {"at": local(ago(2)), "reason": "state_council", "note": "Reported"},
        follow=True,
    )
    assert response.status_code == 200
    app.refresh_from_db()
    assert (app.status, app.referral_reason) == ("referred", "state_council")
    html = page(client, app)
    assert "status-referred" in html and "reported to the State Council" in html
    assert "No time limit while referred" in html
    client.post(f"/applications/{app.pk}/return/", {"at": local(ago(1))})
    app.refresh_from_db()
    assert app.status == "returned"
    assert "Returned without action" in page(client, app)
    moment = ago(0).replace(second=0, microsecond=0)
    client.post(f"/applications/{app.pk}/resubmit/", {"at": local(moment)})
    app.refresh_from_db()
    assert app.status == "submitted" and app.submitted_at == moment
    assert "Resubmitted: the clock starts again" in page(client, app)


def test_a_referral_without_a_reason_is_refused_on_the_page(client, officer, world):
    app = world.mine.application
    client.force_login(officer)
    response = client.post(f"/applications/{app.pk}/refer/", {"at": local(ago(1))})
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert LicenseApplication.objects.get(pk=app.pk).status == "submitted"


def test_the_list_filters_the_new_states(client, officer, world):
    app = world.mine.application
    services.application_refer(
        application=app, at=ago(1), now=timezone.now(), actor=None, reason="watch_list"
    )
    client.force_login(officer)
    html = client.get("/applications/?status=referred").content.decode()
    assert app.reference in html and 'value="returned"' in html
    assert app.reference not in client.get("/applications/?status=returned").content.decode()
    assert app.reference in client.get("/applications/?status=pending").content.decode()


def test_the_csv_export_has_the_pause_reason_and_the_reply_deadline(client, officer, world):
    app = world.mine.application
    services.application_request_info(
        application=app, at=ago(1), now=timezone.now(), actor=None, reason="inspection"
    )
    client.force_login(officer)
    response = client.get("/applications/export.csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {"pause_reason", "reply_due_at"} <= set(rows[0])
    mine = next(r for r in rows if r["reference"] == app.reference)
    assert mine["pause_reason"] == "inspection" and mine["reply_due_at"] == ""


def test_the_admin_refers_through_the_service(client, superuser, world):
    app = world.mine.application
    client.force_login(superuser)
    url = f"/admin/licenses/licenseapplication/{app.pk}/move/refer/"
    assert 'name="reason"' in client.get(url).content.decode()
    response = client.post(url, {"reason": "interagency", "note": "DoD"})
    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.status, app.referral_reason) == ("referred", "interagency")
    assert app.events.filter(kind="status_changed", data__move="refer").exists()
    response = client.post(f"/admin/licenses/licenseapplication/{app.pk}/move/return/", {})
    app.refresh_from_db()
    assert app.status == "returned"
