"""Due dates follow every input: a calendar edit, an authority's window or a rule change
recomputes the pending applications of that authority straight away."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from .models import Authority, CalendarDay, WindowRule
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


@receiver(post_save, sender=WindowRule, dispatch_uid="licenses.rule_edit")
def _rule_edited(sender: Any, instance: WindowRule, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    _recompute_authority(instance.authority_id, f"Review-window rule {instance.pk} changed.")
