"""Mail servers that misbehave: one that is down (every send fails like a refused SMTP
connection), and the SMTP exchange of a worker that dies in it, or stays in it a long time."""

from __future__ import annotations

import threading

from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection


class RefusingBackend(BaseEmailBackend):
    message_ids: list[str] = []

    def send_messages(self, email_messages):
        for message in email_messages:
            RefusingBackend.message_ids.append(message.extra_headers.get("Message-ID", ""))
        raise ConnectionRefusedError(111, "Connection refused")


class KilledBackend(BaseEmailBackend):
    """The server takes the message, and the worker dies before its "250 OK" is recorded
    (SystemExit, like a killed process, is no Exception: nothing catches it on the way out)."""

    message_ids: list[str] = []

    def send_messages(self, email_messages):
        for message in email_messages:
            KilledBackend.message_ids.append(message.extra_headers["Message-ID"])
        raise SystemExit("worker killed during the SMTP exchange")


class WitnessBackend(BaseEmailBackend):
    """Delivers, and records what another database connection (a second worker, the admin)
    sees of the delivery attempts while the SMTP exchange is under way."""

    seen: list[list[tuple[str, bool]]] = []

    def send_messages(self, email_messages):
        from monitoring.models import AlertAttempt

        def look() -> None:
            try:
                WitnessBackend.seen.append(
                    list(AlertAttempt.objects.order_by("pk").values_list("state", "resend"))
                )
            finally:
                connection.close()

        other = threading.Thread(target=look)
        other.start()
        other.join(timeout=30)
        return len(email_messages)


class HeldBackend(BaseEmailBackend):
    """An SMTP exchange that lasts until the test releases it (a slow mail server)."""

    entered = threading.Event()
    release = threading.Event()
    delivered: list[str] = []

    @classmethod
    def reset(cls) -> None:
        cls.entered, cls.release, cls.delivered = threading.Event(), threading.Event(), []

    def send_messages(self, email_messages):
        HeldBackend.entered.set()
        assert HeldBackend.release.wait(timeout=30), "never released"
        HeldBackend.delivered += [m.extra_headers["Message-ID"] for m in email_messages]
        return len(email_messages)
