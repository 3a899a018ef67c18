"""Corrections: the latest move of an application re-dated or undone, recorded as a new event
pointing at the one it corrects."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ConcurrentUpdate, IllegalMove, InvalidInput

from .. import events, signals
from ..clock import recompute
from ..models import (
    ClockPause,
    Event,
    EventKind,
    LicenseApplication,
    LicenseType,
    Status,
)
from ..signals import application_correcting, application_moved
from .due_dates import save_due_dates
from .forecasts import forecasts_after_move
from .moves import CLOSES_PAUSE, DATED_FIELD, MOVES, check_moment, fully_drawn


def latest_move(application: LicenseApplication) -> tuple[Event | None, Event | None]:
    """The latest move still in effect and the one before it (each a status_changed event).

    A move undone by a correction no longer counts; a re-dated move counts at its new date.
    """
    history = list(
        Event.objects.filter(
            application=application,
            shipment__isnull=True,
            kind__in=[EventKind.STATUS_CHANGED, EventKind.CORRECTION],
        ).order_by("id")
    )
    undone = {
        e.corrects_id
        for e in history
        if e.kind == EventKind.CORRECTION and events.payload(e).get("action") == "undo"
    }
    moves = [e for e in history if e.kind == EventKind.STATUS_CHANGED and e.id not in undone]
    latest = moves[-1] if moves else None
    previous = moves[-2] if len(moves) > 1 else None
    return latest, previous


def effective_moment(event: Event) -> dt.datetime:
    """When a move happened, after any re-dating corrections."""
    redate = (
        Event.objects.filter(corrects=event, kind=EventKind.CORRECTION, data__action="redate")
        .order_by("-id")
        .first()
    )
    if redate is None:
        return event.occurred_at
    return dt.datetime.fromisoformat(redate.data["to"])


def application_correct(
    *,
    application: LicenseApplication,
    now: dt.datetime,
    actor: Any,
    note: str,
    at: dt.datetime | None = None,
    undo: bool = False,
) -> LicenseApplication:
    """Re-date (`at`) or undo the latest move. The correction is a new event pointing at the
    move it corrects; the due date and the shipments follow."""
    if not (note or "").strip():
        raise InvalidInput(_("Say why the move is corrected."), fields={"note": _("Required.")})
    if undo == (at is not None):
        raise InvalidInput(
            _("Either give a new date for the latest move or undo it."),
            fields={"at": _("Give a new date, or undo.")},
        )
    with transaction.atomic():
        locked = LicenseApplication.objects.select_for_update().get(pk=application.pk)
        if locked.status != application.status:
            raise ConcurrentUpdate(_("The application was changed by someone else meanwhile."))
        latest, previous = latest_move(locked)
        if latest is None:
            raise IllegalMove(_("The application has no move to correct."))
        move_name = events.payload(latest).get("move", "")
        if move_name not in MOVES or not MOVES[move_name].by_officer:
            raise IllegalMove(_("The latest move was made by the system and cannot be corrected."))
        if latest.to_status != locked.status:
            raise IllegalMove(_("The latest move is no longer the application's state."))
        prev_at = effective_moment(previous) if previous else None
        old_at = effective_moment(latest)
        pause_id = events.payload(latest).get("pause")
        new_at = None if undo else check_moment(at=at, now=now, not_before=prev_at)
        if (
            new_at is not None
            and move_name in ("approve", "approve_amendment")
            and locked.valid_until is not None
        ):
            day = new_at.astimezone(locked.authority.tz).date()
            if locked.valid_until < day:
                raise InvalidInput(
                    _("The license is valid until %(until)s; it cannot be approved after that.")
                    % {"until": locked.valid_until},
                    fields={"at": _("After the license's last valid day.")},
                )
        # What depends on the application (its shipments) may refuse the outcome.
        application_correcting.send(
            sender=LicenseApplication,
            application=locked,
            event=latest,
            move=move_name,
            undo=undo,
            to_status=latest.from_status if undo else locked.status,
            at=new_at,
            now=now,
        )
        if undo:
            correction_event = _undo(
                locked, latest, move_name, prev_at, pause_id, now=now, actor=actor, note=note
            )
        else:
            assert new_at is not None
            updates: dict[str, Any] = {"last_moved_at": new_at, "updated_at": now}
            if move_name in DATED_FIELD:
                updates[DATED_FIELD[move_name]] = new_at
            if move_name == "request_info" and pause_id:
                ClockPause.objects.filter(pk=pause_id).update(requested_at=new_at)
            if (move_name == "provide_info" or move_name in CLOSES_PAUSE) and pause_id:
                pause = ClockPause.objects.get(pk=pause_id)
                if new_at < pause.requested_at:
                    raise InvalidInput(
                        _("Before the information was requested."),
                        fields={"at": _("Before the request.")},
                    )
                ClockPause.objects.filter(pk=pause_id).update(provided_at=new_at)
            LicenseApplication.objects.filter(pk=locked.pk).update(**updates)
            correction_event = events.correction(
                application=locked,
                corrects=latest,
                action="redate",
                from_status=locked.status,
                to_status=locked.status,
                now=now,
                actor=actor,
                note=note,
                data={"from": old_at, "to": new_at, "move": move_name},
            )
        locked.refresh_from_db()
        save_due_dates(recompute([locked], now=now), at=now, now=now, actor=actor)
        application_moved.send(
            sender=LicenseApplication,
            application=locked,
            from_status=latest.to_status,
            to_status=locked.status,
            at=now,
            now=now,
            actor=actor,
            event=correction_event,
        )
        forecasts_after_move(application=locked, now=now)
        # Then, explicitly after its shipments followed it, the flags of both.
        signals.changed.send(sender=LicenseApplication, now=now, application_ids=[locked.pk])
    application.refresh_from_db()
    return application


def _undo(
    app: LicenseApplication,
    latest: Event,
    move_name: str,
    prev_at: dt.datetime | None,
    pause_id: int | None,
    *,
    now: dt.datetime,
    actor: Any,
    note: str,
) -> Event:
    restore: dict[str, Any] = {}
    for field, (old, _new) in (events.payload(latest).get("changes") or {}).items():
        model_field: Any = LicenseApplication._meta.get_field(field)
        restore[field] = model_field.to_python(old) if old is not None else None
    if move_name == "request_info" and pause_id:
        ClockPause.objects.filter(pk=pause_id).delete()
    if (move_name == "provide_info" or move_name in CLOSES_PAUSE) and pause_id:
        ClockPause.objects.filter(pk=pause_id).update(provided_at=None)
    if move_name == "approve" and app.license_type == LicenseType.GENERAL:
        pass  # reservations stay with the shipments; before approval they are free
    target = latest.from_status
    if move_name in ("suspend", "amend") and target in (Status.APPROVED, Status.EXHAUSTED):
        # Shipments may have reserved or given back meanwhile (the license stayed in use or
        # kept its reservations): back to the usable state the drawn totals give it now.
        target = Status.EXHAUSTED if fully_drawn(app, restore) else Status.APPROVED
    updated = LicenseApplication.objects.filter(pk=app.pk, status=latest.to_status).update(
        status=target, last_moved_at=prev_at, updated_at=now, **restore
    )
    if updated != 1:
        raise ConcurrentUpdate(_("The application was changed by someone else meanwhile."))
    return events.correction(
        application=app,
        corrects=latest,
        action="undo",
        from_status=latest.to_status,
        to_status=target,
        now=now,
        actor=actor,
        note=note,
        data={"move": move_name, "undone_at": effective_moment(latest)},
    )
