"""Password reset by e-mail, through the worker: the request does the same work whatever the
address.

Django's own view looks the account up and sends the mail inside the request, so an address
that has an account answers measurably later than one that has none (a timing oracle: anyone
could test which addresses have accounts). Here:

1. The request (`password_reset_request`, from `config.auth.PasswordResetView`) records the
   address as typed, with the page's language, in a `PasswordResetRequest` row and queues
   `monitoring.send_password_reset` after commit — for every address: one INSERT and one
   publish, and no read of the user table. With the broker down the publish fails the same
   way for every address (`alerts.publish_tasks`: logged and swallowed, then skipped for a
   while), and the sweep handles the row `ALERT_SWEEP_AFTER_SECONDS` later.
2. The worker (`password_reset_send`) claims the row with a compare-and-set and a lease, as
   alerts are claimed, so a redelivered task and the sweep never handle it twice. It looks
   the accounts up (Django's `PasswordResetForm.get_users`: active, with a usable password,
   the address in any case) and, for each, writes the link (`SITE_URL` +
   `/password/reset/<uid>/<token>/`, Django's token: it works once, for
   `PASSWORD_RESET_TIMEOUT`) in the user's language (their saved setting, else the language
   of the page the request came from) and sends it. No account: the row says so and nothing
   is sent.
3. At most `PASSWORD_RESET_MAX_PER_HOUR` reset e-mails go to one address in an hour (so the
   page cannot be used to flood someone's inbox); a request beyond that is recorded as
   `throttled` and sends nothing. The limit is counted here, in the worker, so the page
   answers the same either way.
4. A failed send is kept with its error and tried again by the sweep after the alerts'
   backoff, up to `MAX_ATTEMPTS` tries.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .alerts import EARLY, SWEEP_LIMIT, backoff, lease, publish_tasks, sweep_after
from .models import AlertPreference, PasswordResetRequest

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # a link that arrives hours late helps nobody: 1 + 2 + 4 + 8 minutes of tries
State = PasswordResetRequest.State


def max_per_hour() -> int:
    return int(getattr(settings, "PASSWORD_RESET_MAX_PER_HOUR", 5))


def password_reset_request(*, email: str, language: str, now: dt.datetime) -> None:
    """Record a reset request for `email` and queue its handling after commit. The same work
    for every address: nothing here may depend on whether an account has it."""
    with transaction.atomic():
        row = PasswordResetRequest.objects.create(
            email=email.strip(),
            language=language[:10],
            requested_at=now,
            next_attempt_at=now + sweep_after(),
        )
        transaction.on_commit(partial(publish, [row.pk]))


def publish(request_ids: list[int]) -> bool:
    from .tasks import send_password_reset

    return publish_tasks(send_password_reset, request_ids, what="password reset request(s)")


def _site() -> tuple[str, str, str]:
    """SITE_URL without its trailing slash, its scheme and its host (with any port)."""
    site = settings.SITE_URL.rstrip("/")
    parts = urlparse(site)
    return site, parts.scheme or "http", parts.netloc or "localhost"


def user_language(user: Any, *, asked_in: str) -> str:
    """The user's saved language, else the language of the page the request came from."""
    saved = AlertPreference.objects.filter(user=user).values_list("language", flat=True).first()
    codes = {code for code, _name in settings.LANGUAGES}
    for language in (saved, asked_in):
        if language in codes:
            return language
    return settings.LANGUAGE_CODE


def reset_message(user: Any, *, email: str, language: str) -> EmailMessage:
    """The reset e-mail for `user`, with a fresh link, in `language`."""
    site, protocol, domain = _site()
    context = {
        "email": email,
        "user": user,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
        "site_url": site,
        "protocol": protocol,
        "domain": domain,
        "site_name": domain,
    }
    with translation.override(language):
        subject = render_to_string("registration/password_reset_subject.txt", context)
        body = render_to_string("registration/password_reset_email.html", context)
    return EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
    )


def _finish(row: PasswordResetRequest, state: str, *, now: dt.datetime, error: str = "") -> str:
    PasswordResetRequest.objects.filter(pk=row.pk).update(
        state=state, handled_at=now, next_attempt_at=None, error=error[:4000]
    )
    return state


def password_reset_send(request_id: int, *, now: dt.datetime) -> str:
    """Claim one request, look its accounts up and mail each a link (see the module
    docstring). Returns what became of it: "sent", "no_account", "throttled", "retry",
    "failed", or "skipped" (not this call's to handle: handled already, leased, not due)."""
    row = PasswordResetRequest.objects.filter(pk=request_id).first()
    if row is None or row.state != State.PENDING:
        return "skipped"
    if row.attempts and row.next_attempt_at and row.next_attempt_at > now + EARLY:
        return "skipped"
    claimed = PasswordResetRequest.objects.filter(
        pk=row.pk, state=State.PENDING, attempts=row.attempts
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + lease())
    if claimed != 1:
        return "skipped"
    attempt = row.attempts + 1
    recent = PasswordResetRequest.objects.filter(
        email__iexact=row.email, state=State.SENT, handled_at__gt=now - dt.timedelta(hours=1)
    ).count()
    if recent >= max_per_hour():
        log.warning("Password reset for %s: %d sent in the last hour; not sent.", row.email, recent)
        return _finish(row, State.THROTTLED, now=now)
    users = list(PasswordResetForm().get_users(row.email))
    if not users:
        return _finish(row, State.NO_ACCOUNT, now=now)
    try:
        messages = [
            reset_message(
                user, email=row.email, language=user_language(user, asked_in=row.language)
            )
            for user in users
        ]
        get_connection().send_messages(messages)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if attempt >= MAX_ATTEMPTS:
            log.warning("Password reset for %s failed (%s); giving up.", row.email, error)
            return _finish(row, State.FAILED, now=now, error=error)
        PasswordResetRequest.objects.filter(pk=row.pk, attempts=attempt).update(
            next_attempt_at=now + backoff(attempt), error=error[:4000]
        )
        log.warning("Password reset for %s failed (%s); the sweep tries again.", row.email, error)
        return "retry"
    return _finish(row, State.SENT, now=now)


def password_reset_sweep(*, now: dt.datetime, limit: int = SWEEP_LIMIT) -> int:
    """Handle the requests whose task was never queued (the broker was down) or whose retry is
    due; returns how many were mailed."""
    due = list(
        PasswordResetRequest.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(password_reset_send(pk, now=now) == State.SENT for pk in due)
