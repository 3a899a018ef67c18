"""Password reset without a timing oracle: the page does the same work for an address that has
an account and one that has none (it only records the address and queues the e-mail), and the
worker looks the account up and mails the link — in the user's language — or nothing."""

from __future__ import annotations

import datetime as dt
import re
from unittest import mock

import pytest
from django.contrib.auth.forms import PasswordResetForm
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from kombu.exceptions import OperationalError

from monitoring import alerts
from monitoring.models import AlertPreference, PasswordResetRequest
from monitoring.password_reset import password_reset_send

from ..conftest import make_user
from ..helpers import NOW

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "brand new secret 2027"
UNKNOWN = "nobody-here@example.com"


def shape(sql: str) -> str:
    """A statement with its values (and savepoint names) taken out: what it does, not with
    what."""
    sql = re.sub(r'"s\d+_x\d+"', "?", sql)
    return re.sub(r"\b\d+(\.\d+)?\b", "?", re.sub(r"'(?:[^']|'')*'", "?", sql))


def spy(cls, name: str):
    """Count the calls of a method, letting each one through."""
    return mock.patch.object(cls, name, autospec=True, side_effect=getattr(cls, name))


def post_reset(client, address: str, capture_on_commit, *, broker_down: bool = False):
    """POST the reset page for `address`; return the answer, the shapes of the statements it
    ran, and how often it queued a task, looked accounts up and sent mail."""
    alerts._broker_paused_until = 0.0  # each request meets the broker afresh
    queue_error = OperationalError("Connection refused") if broker_down else None
    with (
        mock.patch(
            "monitoring.tasks.send_password_reset.apply_async", side_effect=queue_error
        ) as queue,
        spy(PasswordResetForm, "get_users") as look_up,
        spy(PasswordResetForm, "send_mail") as django_send,
        spy(EmailBackend, "send_messages") as send,
        CaptureQueriesContext(connection) as queries,
        capture_on_commit(execute=True),
    ):
        response = client.post("/password/reset/", {"email": address})
    calls = {
        "queued": queue.call_count,
        "looked up": look_up.call_count,
        "sent (Django's view)": django_send.call_count,
        "sent": send.call_count,
    }
    return response, [shape(q["sql"]) for q in queries.captured_queries], calls


@pytest.mark.parametrize("broker_down", [False, True], ids=["broker up", "broker down"])
def test_the_page_does_the_same_work_for_an_address_with_an_account_and_one_without(
    client, officer, django_capture_on_commit_callbacks, broker_down
):
    capture = django_capture_on_commit_callbacks
    known_answer, known_sql, known_calls = post_reset(
        client, officer.email, capture, broker_down=broker_down
    )
    unknown_answer, unknown_sql, unknown_calls = post_reset(
        client, UNKNOWN, capture, broker_down=broker_down
    )
    assert known_answer.status_code == unknown_answer.status_code == 302
    assert known_answer["Location"] == unknown_answer["Location"] == "/password/reset/done/"
    assert known_answer.content == unknown_answer.content
    # The same statements in the same order, and the same calls: one task queued (or tried,
    # with the broker down), no account looked up and no mail sent inside the request.
    assert known_sql == unknown_sql
    assert known_calls == unknown_calls
    assert known_calls == {"queued": 1, "looked up": 0, "sent (Django's view)": 0, "sent": 0}
    writes = [s for s in known_sql if "SAVEPOINT" not in s]
    assert len(writes) == 1  # recording the address, and nothing else
    assert writes[0].startswith('INSERT INTO "monitoring_passwordresetrequest"')
    assert mail.outbox == []
    assert sorted(PasswordResetRequest.objects.values_list("email", "state")) == sorted(
        [(officer.email, "pending"), (UNKNOWN, "pending")]
    )


def test_the_worker_mails_a_working_link_to_the_account_and_nothing_for_an_unknown_address(
    client, officer, settings
):
    settings.SITE_URL = "https://tracker.example"
    client.post("/password/reset/", {"email": officer.email.upper()})  # any case finds it
    client.post("/password/reset/", {"email": UNKNOWN})
    known, unknown = PasswordResetRequest.objects.order_by("pk")

    assert password_reset_send(unknown.pk, now=NOW) == "no_account"
    assert mail.outbox == []
    assert password_reset_send(known.pk, now=NOW) == "sent"
    [message] = mail.outbox
    assert message.to == [officer.email]
    assert message.subject == "Reset your password for the export-license tracker"
    link = re.search(r"https://tracker\.example(/password/reset/[^\s]+/)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done["Location"] == "/password/reset/complete/"
    officer.refresh_from_db()
    assert officer.check_password(NEW_PASSWORD)
    # The link works once.
    assert not client.get(link, follow=True).context["validlink"]

    assert [(r.state, r.handled_at) for r in PasswordResetRequest.objects.order_by("pk")] == [
        ("sent", NOW),
        ("no_account", NOW),
    ]
    # Handled once: a redelivered task sends nothing more.
    assert password_reset_send(known.pk, now=NOW + dt.timedelta(minutes=10)) == "skipped"
    assert len(mail.outbox) == 1


def test_an_inactive_account_gets_no_link(client, officer):
    officer.is_active = False
    officer.save()
    client.post("/password/reset/", {"email": officer.email})
    assert password_reset_send(PasswordResetRequest.objects.get().pk, now=NOW) == "no_account"
    assert mail.outbox == []


def test_the_e_mail_is_in_the_users_saved_language_else_the_pages(client, officer, viewer):
    AlertPreference.objects.create(user=officer, language="zh-hans")
    client.post("/password/reset/", {"email": officer.email})  # asked on an English page
    client.post("/password/reset/", {"email": viewer.email}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    for row in PasswordResetRequest.objects.order_by("pk"):
        assert password_reset_send(row.pk, now=NOW) == "sent"
    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([officer.email], "重置出口许可证跟踪系统的密码"),
        ([viewer.email], "重置出口许可证跟踪系统的密码"),
    ]
    assert all("请在此设置新密码" in m.body for m in mail.outbox)


def test_at_most_so_many_reset_e_mails_go_to_one_address_in_an_hour(client, officer, settings):
    settings.PASSWORD_RESET_MAX_PER_HOUR = 2
    for _ in range(4):
        client.post("/password/reset/", {"email": officer.email})
    rows = list(PasswordResetRequest.objects.order_by("pk"))
    minute = dt.timedelta(minutes=1)
    outcomes = [password_reset_send(row.pk, now=NOW + n * minute) for n, row in enumerate(rows[:3])]
    assert outcomes == ["sent", "sent", "throttled"]
    assert len(mail.outbox) == 2
    # An hour after the first one, there is room again.
    assert password_reset_send(rows[3].pk, now=NOW + dt.timedelta(minutes=60)) == "sent"
    assert len(mail.outbox) == 3


def test_with_the_broker_down_the_sweep_mails_the_link_later(
    client, officer, django_capture_on_commit_callbacks
):
    post_reset(client, officer.email, django_capture_on_commit_callbacks, broker_down=True)
    post_reset(client, UNKNOWN, django_capture_on_commit_callbacks, broker_down=True)
    row = PasswordResetRequest.objects.get(email=officer.email)
    due = row.next_attempt_at
    assert alerts.sweep(now=due - dt.timedelta(seconds=1)).password_resets == 0
    result = alerts.sweep(now=due + dt.timedelta(seconds=1))
    assert result.password_resets == 1
    assert "1 password reset(s) sent" in result.summary()
    assert [m.to for m in mail.outbox] == [[officer.email]]
    assert sorted(PasswordResetRequest.objects.values_list("state", flat=True)) == [
        "no_account",
        "sent",
    ]


def test_a_failed_send_keeps_its_error_and_the_sweep_tries_again(client, officer, settings):
    client.post("/password/reset/", {"email": officer.email})
    row = PasswordResetRequest.objects.get()
    settings.EMAIL_BACKEND = "tests.monitoring.backends.RefusingBackend"
    assert password_reset_send(row.pk, now=NOW) == "retry"
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("pending", 1)
    assert "Connection refused" in row.error
    assert row.next_attempt_at == NOW + alerts.backoff(1)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert alerts.sweep(now=NOW + alerts.backoff(1) - dt.timedelta(seconds=5)).password_resets == 0
    assert alerts.sweep(now=NOW + alerts.backoff(1)).password_resets == 1
    assert [m.to for m in mail.outbox] == [[officer.email]]


def test_two_accounts_with_one_address_each_get_their_own_link(client):
    one = make_user("first_of_two", None)
    two = make_user("second_of_two", None)
    two.email = one.email.upper()
    two.save()
    client.post("/password/reset/", {"email": one.email})
    assert password_reset_send(PasswordResetRequest.objects.get().pk, now=NOW) == "sent"
    assert sorted(m.to[0].lower() for m in mail.outbox) == [one.email, one.email]
    assert mail.outbox[0].body != mail.outbox[1].body
