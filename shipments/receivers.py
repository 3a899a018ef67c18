"""Shipments follow the applications that cover them, refuse corrections of an application
that would leave them in a state it no longer allows, and re-evaluate whether they need a
license when a measure changes (connected in ShipmentsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from licenses.models import EventKind
from licenses.signals import application_correcting, application_moved, measure_changed

from .services import application_correction_check, follow_application
from .services.requirements import evaluate_requirements


@receiver(application_moved, dispatch_uid="shipments.follow_application")
def _follow(sender: Any, application, at, now, actor, event=None, **kwargs: Any) -> None:
    correction = event if event is not None and event.kind == EventKind.CORRECTION else None
    follow_application(application=application, at=at, now=now, actor=actor, correction=correction)


@receiver(application_correcting, dispatch_uid="shipments.check_application_correction")
def _check_correction(sender: Any, **kwargs: Any) -> None:
    application_correction_check(
        application=kwargs["application"],
        event=kwargs["event"],
        move=kwargs["move"],
        undo=kwargs["undo"],
        to_status=kwargs["to_status"],
        at=kwargs["at"],
        now=kwargs["now"],
    )


@receiver(measure_changed, dispatch_uid="shipments.evaluate_requirements")
def _measure_changed(sender: Any, authority_id, item_ids, now, **kwargs: Any) -> None:
    """A measure was logged or changed: the shipments of the items it names (before and after
    the change) re-evaluate, set-based, whether they need a license, and follow."""
    if item_ids:
        evaluate_requirements(now=now, item_ids=sorted(set(item_ids)))
