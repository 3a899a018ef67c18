"""Shipments follow the applications that cover them (connected in ShipmentsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from licenses.signals import application_moved

from .services import follow_application


@receiver(application_moved, dispatch_uid="shipments.follow_application")
def _follow(sender: Any, application, at, now, actor, **kwargs: Any) -> None:
    follow_application(application=application, at=at, now=now, actor=actor)
