"""Shipments follow the applications that cover them, and refuse corrections of an application
that would leave them in a state it no longer allows (connected in ShipmentsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from licenses.models import EventKind
from licenses.signals import application_correcting, application_moved

from .services import application_correction_check, follow_application


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
