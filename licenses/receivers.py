"""Due dates follow every input: a calendar edit or an authority's window recomputes the
pending applications of that authority straight away. Window rules and fast-track decisions
are changed only through their services (`licenses.rules`, `licenses.fasttrack`), which
recompute exactly the applications they govern."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from .models import Authority, CalendarDay
from .services import recompute_due_dates


def _recompute_authority(authority_id: int, note: str) -> None:
    recompute_due_dates(now=timezone.now(), authority_id=authority_id, note=note)


@receiver([post_save, post_delete], sender=CalendarDay, dispatch_uid="licenses.calendar_edit")
def _calendar_edited(sender: Any, instance: CalendarDay, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    _recompute_authority(instance.authority_id, f"Calendar edited: {instance.date} {instance.kind}")


@receiver(post_save, sender=Authority, dispatch_uid="licenses.authority_edit")
def _authority_edited(sender: Any, instance: Authority, created: bool, **kwargs: Any) -> None:
    if created or kwargs.get("raw"):
        return
    _recompute_authority(instance.pk, "Authority's review window or calendar changed.")
