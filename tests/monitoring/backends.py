"""A mail server that is down: every send fails like a refused SMTP connection."""

from __future__ import annotations

from django.core.mail.backends.base import BaseEmailBackend


class RefusingBackend(BaseEmailBackend):
    message_ids: list[str] = []

    def send_messages(self, email_messages):
        for message in email_messages:
            RefusingBackend.message_ids.append(message.extra_headers["Message-ID"])
        raise ConnectionRefusedError(111, "Connection refused")
