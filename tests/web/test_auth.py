"""Signing in and out, passwords, sign-in throttling, the health check and the security
headers every page carries."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import override_settings

from monitoring.models import PasswordResetRequest
from monitoring.password_reset import password_reset_send

from ..helpers import NOW

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def test_the_sign_in_form_has_fields_labelled_username_and_password(client):
    html = client.get("/login/").content.decode()
    assert re.search(r'<label for="id_username">Username</label>', html)
    assert re.search(r'<label for="id_password">Password</label>', html)


def test_signing_in_takes_the_visitor_back_where_it_was_going(client, officer, world):
    response = client.post(
        "/login/?next=/shipments/",
        {"username": "olga_officer", "password": PASSWORD, "next": "/shipments/"},
    )
    assert response.status_code == 302 and response["Location"] == "/shipments/"
    response = client.get("/login/")  # already signed in: straight to the dashboard
    assert response["Location"] == "/"


def test_a_wrong_password_says_so_without_saying_which_part_was_wrong(client, officer):
    response = client.post("/login/", {"username": "olga_officer", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password." in response.content.decode()


@override_settings(AXES_FAILURE_LIMIT=3)
def test_repeated_failures_lock_the_account_out_with_a_clear_message(client, officer):
    for _ in range(2):
        assert (
            client.post("/login/", {"username": "olga_officer", "password": "x"}).status_code == 200
        )
    locked = client.post("/login/", {"username": "olga_officer", "password": "x"})
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Too many failed sign-in attempts" in text
    assert "Signing in failed 3 times in a row" in text and "Try again in 15 minutes." in text
    # Even the right password is refused while the lockout lasts.
    again = client.post("/login/", {"username": "olga_officer", "password": PASSWORD})
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_lockout_is_per_username_and_address(client, officer, viewer):
    with override_settings(AXES_FAILURE_LIMIT=2):
        for _ in range(2):
            client.post("/login/", {"username": "olga_officer", "password": "x"})
        ok = client.post("/login/", {"username": "vera_viewer", "password": PASSWORD})
    assert ok.status_code == 302


def test_sign_out_is_a_post(client, officer):
    client.force_login(officer)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_every_page_form_carries_a_csrf_token(client, officer, world):
    client.force_login(officer)
    html = client.get(f"/applications/{world.mine.application.pk}/").content.decode()
    forms = html.count("<form")
    assert (
        forms >= 3 and html.count('name="csrfmiddlewaretoken"') >= forms - 1
    )  # GET filters excepted


def test_a_post_without_the_csrf_token_is_refused(officer, world):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(officer)
    response = strict.post(f"/shipments/{world.mine.shipment.pk}/hold/", {"at": "2026-01-01T00:00"})
    assert response.status_code == 403


def test_a_password_is_changed(client, officer):
    client.force_login(officer)
    response = client.post(
        "/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": "a much longer new secret 42",
            "new_password2": "a much longer new secret 42",
        },
    )
    assert response["Location"] == "/password/change/done/"
    officer.refresh_from_db()
    assert officer.check_password("a much longer new secret 42")


def test_a_password_is_reset_by_e_mail(client, officer):
    response = client.post("/password/reset/", {"email": officer.email})
    assert response["Location"] == "/password/reset/done/"
    assert mail.outbox == []  # the worker sends it (tests/monitoring/test_password_reset.py)
    assert password_reset_send(PasswordResetRequest.objects.get().pk, now=NOW) == "sent"
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/password/reset/[^\s]+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "brand new secret 2027", "new_password2": "brand new secret 2027"},
    )
    assert done["Location"] == "/password/reset/complete/"
    officer.refresh_from_db()
    assert officer.check_password("brand new secret 2027")


def test_the_health_check_answers_before_the_host_check(client, settings):
    settings.ALLOWED_HOSTS = ["tracker.example.com"]
    response = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200 and response.content == b"ok"
    assert client.get("/", HTTP_HOST="127.0.0.1:8000").status_code == 400


def test_pages_carry_a_content_security_policy_without_unsafe_inline(client, officer, world):
    client.force_login(officer)
    for url in ("/", "/login/", f"/applications/{world.mine.application.pk}/", "/admin/"):
        policy = client.get(url)["Content-Security-Policy"]
        assert "default-src 'self'" in policy, url
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, url
        assert "frame-ancestors 'none'" in policy, url


def test_no_template_has_an_inline_script_or_event_handler():
    from pathlib import Path

    from django.conf import settings

    templates = Path(settings.BASE_DIR, "templates").rglob("*.html")
    offenders = []
    for path in templates:
        text = path.read_text()
        if path.parts[-2:] == ("drf_spectacular", "swagger_ui.html"):
            continue  # drf-spectacular's own fallback for its unsplit view, never used
        if "email" in path.parts:
            continue  # e-mail bodies are not pages; mail clients need inline styles
        if re.search(r"<script(?![^>]*\bsrc=)", text) or re.search(r"\son[a-z]+=", text):
            offenders.append(str(path))
        if re.search(r"<style|\sstyle=", text):
            offenders.append(str(path))
    assert offenders == []


def test_times_show_in_the_users_time_zone_or_utc_when_it_is_unknown(client, officer, world):
    from monitoring.models import AlertPreference

    client.force_login(officer)
    assert "Dates and times are shown in UTC." in client.get("/").content.decode()
    AlertPreference.objects.create(user=officer, time_zone="Asia/Shanghai")
    assert "shown in Asia/Shanghai." in client.get("/").content.decode()
    AlertPreference.objects.filter(user=officer).update(time_zone="Mars/Olympus_Mons")
    assert "shown in UTC." in client.get("/").content.decode()
