"""Writes on applications: creation, edits, the state moves, corrections and due dates.

Every move has the same shape (`_move`): check the move against the one table of legal moves
(`MOVES`), check its date, update the row with a compare-and-set on the state that was read,
recompute the due date, write the events, and tell listeners (shipments follow their
application) — all inside one transaction. Nothing else writes an application's state.

Services take `now` from their caller; only views, tasks and commands read the clock.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Model
from django.utils.translation import gettext as _

from core.errors import ConcurrentUpdate, IllegalMove, InvalidInput, full_clean

from . import events, signals
from .clock import Recomputed, recompute
from .models import (
    PENDING_STATUSES,
    ClockPause,
    ControlledItem,
    Event,
    EventKind,
    Exporter,
    LicenseApplication,
    LicenseType,
    Status,
)
from .signals import application_correcting, application_moved, due_dates_changed

S = Status


@dataclass(frozen=True)
class Move:
    name: str
    sources: frozenset[str]
    target: str | None  # None: back to the state the application came from (provide_info)
    by_officer: bool = True  # officer moves can be corrected; system moves cannot


# The one table of legal moves. No other move is legal.
MOVES: dict[str, Move] = {
    m.name: m
    for m in [
        Move("submit", frozenset({S.DRAFT}), S.SUBMITTED),
        Move("accept", frozenset({S.SUBMITTED}), S.ACCEPTED),
        Move("request_info", frozenset({S.SUBMITTED, S.ACCEPTED}), S.INFO_REQUESTED),
        Move("provide_info", frozenset({S.INFO_REQUESTED}), None),
        Move("approve", frozenset({S.SUBMITTED, S.ACCEPTED}), S.APPROVED),
        Move("reject", frozenset({S.SUBMITTED, S.ACCEPTED}), S.REJECTED),
        Move("withdraw", frozenset(PENDING_STATUSES), S.WITHDRAWN),
        Move("expire", frozenset({S.APPROVED}), S.EXPIRED, by_officer=False),
        Move("exhaust", frozenset({S.APPROVED}), S.EXHAUSTED, by_officer=False),
        Move("replenish", frozenset({S.EXHAUSTED}), S.APPROVED, by_officer=False),
    ]
}

# The field each officer move dates, so that a correction can re-date it.
DATED_FIELD = {
    "submit": "submitted_at",
    "accept": "accepted_at",
    "approve": "decided_at",
    "reject": "decided_at",
}


def legal_moves(application: LicenseApplication) -> list[str]:
    """The officer moves legal from the application's current state, in table order."""
    return [m.name for m in MOVES.values() if m.by_officer and application.status in m.sources]


def check_moment(
    *, at: dt.datetime | None, now: dt.datetime, not_before: dt.datetime | None
) -> dt.datetime:
    """A move is dated any moment in the past not before the previous move; never in the
    future. `at` omitted means now."""
    if at is None:
        at = now
    if at.tzinfo is None:
        raise InvalidInput(_("Give a time zone with the date."), fields={"at": _("No time zone.")})
    if at > now:
        raise InvalidInput(
            _("A move cannot be dated in the future."),
            fields={"at": _("This moment is in the future.")},
        )
    if not_before is not None and at < not_before:
        raise InvalidInput(
            _("A move cannot be dated before the previous move (%(prev)s).")
            % {"prev": not_before.isoformat()},
            fields={
                "at": _("Before the previous move (%(prev)s).") % {"prev": not_before.isoformat()}
            },
        )
    return at


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Model):
        return value.pk  # an edited exporter or authority is recorded by its id
    return value


def _move(
    application: LicenseApplication,
    move_name: str,
    *,
    at: dt.datetime | None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
    changes: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> LicenseApplication:
    """Make one move; see the module docstring. Raises IllegalMove, ConcurrentUpdate or
    InvalidInput and then changes nothing."""
    move = MOVES[move_name]
    read_status = application.status
    if read_status not in move.sources:
        raise IllegalMove(
            _("Cannot %(move)s an application that is %(status)s.")
            % {"move": move_name.replace("_", " "), "status": S(read_status).label}
        )
    at = check_moment(at=at, now=now, not_before=application.last_moved_at)
    changes = dict(changes or {})
    if move_name in DATED_FIELD:
        changes[DATED_FIELD[move_name]] = at
    with transaction.atomic():
        pause_id = None
        if move_name == "request_info":
            target = S.INFO_REQUESTED
        elif move_name == "provide_info":
            pause = (
                ClockPause.objects.select_for_update()
                .filter(application=application, provided_at__isnull=True)
                .first()
            )
            if pause is None:
                raise ConcurrentUpdate(_("The information request was already answered."))
            target = S(pause.resume_status)
            pause_id = pause.pk
        else:
            assert move.target is not None
            target = S(move.target)
        old_values = {name: getattr(application, name) for name in changes}
        updated = LicenseApplication.objects.filter(pk=application.pk, status=read_status).update(
            status=target, last_moved_at=at, updated_at=now, **changes
        )
        if updated != 1:
            raise ConcurrentUpdate(
                _("The application was changed by someone else meanwhile; reload and try again.")
            )
        if move_name == "request_info":
            pause_id = ClockPause.objects.create(
                application=application, requested_at=at, resume_status=read_status
            ).pk
        elif move_name == "provide_info":
            assert pause_id is not None
            ClockPause.objects.filter(pk=pause_id).update(provided_at=at)
        data = {
            "move": move_name,
            "previous_moved_at": _jsonable(application.last_moved_at),
            "changes": {k: [_jsonable(old_values[k]), _jsonable(v)] for k, v in changes.items()},
            **(extra or {}),
        }
        if pause_id is not None:
            data["pause"] = pause_id
        application.refresh_from_db()
        event = events.status_changed(
            application=application,
            from_status=read_status,
            to_status=target,
            at=at,
            now=now,
            actor=actor,
            note=note,
            data=data,
        )
        save_due_dates(recompute([application], now=now), at=at, now=now, actor=actor)
        application_moved.send(
            sender=LicenseApplication,
            application=application,
            from_status=read_status,
            to_status=target,
            at=at,
            now=now,
            actor=actor,
            event=event,
        )
        # Then, explicitly after its shipments followed it, the flags of both.
        signals.changed.send(sender=LicenseApplication, now=now, application_ids=[application.pk])
    return application


def application_submit(*, application, at=None, now, actor, note="") -> LicenseApplication:
    if not application.items.exists():
        raise InvalidInput(
            _("Name at least one controlled item before submitting."),
            fields={"items": _("No controlled item.")},
        )
    return _move(application, "submit", at=at, now=now, actor=actor, note=note)


def application_accept(
    *, application, at=None, now, actor, note="", authority_reference: str | None = None
) -> LicenseApplication:
    changes = {"authority_reference": authority_reference} if authority_reference else {}
    if authority_reference:
        _check_authority_reference(application, authority_reference)
    return _move(application, "accept", at=at, now=now, actor=actor, note=note, changes=changes)


def application_request_info(*, application, at=None, now, actor, note="") -> LicenseApplication:
    return _move(application, "request_info", at=at, now=now, actor=actor, note=note)


def application_provide_info(*, application, at=None, now, actor, note="") -> LicenseApplication:
    return _move(application, "provide_info", at=at, now=now, actor=actor, note=note)


def application_approve(
    *,
    application: LicenseApplication,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
    license_number: str,
    valid_until: dt.date,
    approved_quantity: Decimal | None = None,
    approved_value: Decimal | None = None,
) -> LicenseApplication:
    """Approval records the license; for a general license also the approved quantity and
    value, refused if either is below what shipments already reserve."""
    errors: dict[str, str] = {}
    if not (license_number or "").strip():
        errors["license_number"] = _("Give the license number.")
    if valid_until is None:
        errors["valid_until"] = _("Give the date the license is valid until.")
    general = application.license_type == LicenseType.GENERAL
    if general:
        if approved_quantity is None:
            errors["approved_quantity"] = _("A general license needs its approved quantity.")
        if approved_value is None:
            errors["approved_value"] = _("A general license needs its approved value.")
    approved_quantity = approved_quantity if approved_quantity is not None else application.quantity
    approved_value = approved_value if approved_value is not None else application.value
    if approved_quantity is not None and approved_quantity <= 0:
        errors["approved_quantity"] = _("Must be more than zero.")
    if approved_value is not None and approved_value <= 0:
        errors["approved_value"] = _("Must be more than zero.")
    # The approval moment is `at`, or now when it is omitted: either way the license cannot
    # end before the day it is granted (the authority's day).
    approval_day = (at or now).astimezone(application.authority.tz).date()
    if valid_until is not None and valid_until < approval_day:
        errors["valid_until"] = _("Before the approval (%(day)s).") % {"day": approval_day}
    if errors:
        message = _("The approval is incomplete.")
        if set(errors) == {"valid_until"}:
            message = _("The license cannot expire before it is approved.")
        raise InvalidInput(message, fields=errors)
    with transaction.atomic():
        locked = LicenseApplication.objects.select_for_update().get(pk=application.pk)
        if locked.status != application.status:
            raise ConcurrentUpdate(_("The application was changed by someone else meanwhile."))
        if general and locked.drawn_quantity > approved_quantity:
            raise InvalidInput(
                _("Shipments already reserve %(drawn)s; the approved quantity cannot be less.")
                % {"drawn": locked.drawn_quantity},
                fields={
                    "approved_quantity": _("Below the %(drawn)s already assigned.")
                    % {"drawn": locked.drawn_quantity}
                },
            )
        if general and locked.drawn_value > approved_value:
            raise InvalidInput(
                _("Shipments already reserve %(drawn)s; the approved value cannot be less.")
                % {"drawn": locked.drawn_value},
                fields={
                    "approved_value": _("Below the %(drawn)s already assigned.")
                    % {"drawn": locked.drawn_value}
                },
            )
        _move(
            application,
            "approve",
            at=at,
            now=now,
            actor=actor,
            note=note,
            changes={
                "license_number": license_number.strip(),
                "valid_until": valid_until,
                "approved_quantity": approved_quantity,
                "approved_value": approved_value,
            },
        )
        if general and (
            application.drawn_quantity >= approved_quantity
            or application.drawn_value >= approved_value
        ):
            _move(
                application,
                "exhaust",
                at=application.last_moved_at,
                now=now,
                actor=None,
                note=_("Fully drawn down at approval."),
            )
    return application


def application_reject(
    *, application, at=None, now, actor, note="", reason: str
) -> LicenseApplication:
    if not (reason or "").strip():
        raise InvalidInput(
            _("Give the reason for the rejection."), fields={"reason": _("Required.")}
        )
    return _move(
        application,
        "reject",
        at=at,
        now=now,
        actor=actor,
        note=note,
        changes={"rejection_reason": reason.strip()},
    )


def application_withdraw(*, application, at=None, now, actor, note="") -> LicenseApplication:
    return _move(application, "withdraw", at=at, now=now, actor=actor, note=note)


def application_expire(*, application, now, at=None) -> LicenseApplication:
    """The daily job's move: an approved license past its validity."""
    return _move(application, "expire", at=at, now=now, actor=None, note=_("Validity ended."))


def application_exhaust(*, application, now, actor=None, note="") -> LicenseApplication:
    at = max(now, application.last_moved_at) if application.last_moved_at else now
    return _move(application, "exhaust", at=at, now=at, actor=actor, note=note)


def application_replenish(*, application, now, actor=None, note="") -> LicenseApplication:
    at = max(now, application.last_moved_at) if application.last_moved_at else now
    return _move(application, "replenish", at=at, now=at, actor=actor, note=note)


# --- corrections ------------------------------------------------------------------------


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
        move_name = latest.data.get("move", "")
        if move_name not in MOVES or not MOVES[move_name].by_officer:
            raise IllegalMove(_("The latest move was made by the system and cannot be corrected."))
        if latest.to_status != locked.status:
            raise IllegalMove(_("The latest move is no longer the application's state."))
        prev_at = effective_moment(previous) if previous else None
        old_at = effective_moment(latest)
        pause_id = latest.data.get("pause")
        new_at = None if undo else check_moment(at=at, now=now, not_before=prev_at)
        if new_at is not None and move_name == "approve" and locked.valid_until is not None:
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
            if move_name == "provide_info" and pause_id:
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
        # Then, explicitly after its shipments followed it, the flags of both.
        signals.changed.send(sender=LicenseApplication, now=now, application_ids=[locked.pk])
    application.refresh_from_db()
    return application


def _undo(app, latest, move_name, prev_at, pause_id, *, now, actor, note) -> Event:
    restore: dict[str, Any] = {}
    for field, (old, _new) in (latest.data.get("changes") or {}).items():
        model_field: Any = LicenseApplication._meta.get_field(field)
        restore[field] = model_field.to_python(old) if old is not None else None
    if move_name == "request_info" and pause_id:
        ClockPause.objects.filter(pk=pause_id).delete()
    if move_name == "provide_info" and pause_id:
        ClockPause.objects.filter(pk=pause_id).update(provided_at=None)
    if move_name == "approve" and app.license_type == LicenseType.GENERAL:
        pass  # reservations stay with the shipments; before approval they are free
    updated = LicenseApplication.objects.filter(pk=app.pk, status=latest.to_status).update(
        status=latest.from_status, last_moved_at=prev_at, updated_at=now, **restore
    )
    if updated != 1:
        raise ConcurrentUpdate(_("The application was changed by someone else meanwhile."))
    return events.correction(
        application=app,
        corrects=latest,
        action="undo",
        from_status=latest.to_status,
        to_status=latest.from_status,
        now=now,
        actor=actor,
        note=note,
        data={"move": move_name, "undone_at": effective_moment(latest)},
    )


# --- due dates ----------------------------------------------------------------------------


def save_due_dates(
    results: Iterable[Recomputed],
    *,
    at: dt.datetime,
    now: dt.datetime,
    actor: Any = None,
    kind: str = EventKind.DUE_DATE_CHANGED,
    decision_id: int | None = None,
    note: str = "",
    batch_size: int = 2000,
    data: dict[str, Any] | None = None,
) -> list[Recomputed]:
    """Store recomputed windows and due dates and write one event per changed due date, in a
    bounded number of queries. Returns what changed. `data` is added to every event's data
    (e.g. `{"rule": 7}` when a rule change caused the recomputation)."""
    changed = [r for r in results if r.changed]
    if not changed:
        return []
    rows = []
    due_events = []
    for r in changed:
        app = r.application
        app.due_at, app.window_days, app.window_source = (
            r.new_due_at,
            r.window.days,
            r.window.source,
        )
        rows.append(app)
        if r.old_due_at != r.new_due_at:
            due_events.append(
                events.due_date_change(
                    application=app,
                    old=r.old_due_at,
                    new=r.new_due_at,
                    window_days=r.window.days,
                    source=r.window.source,
                    at=at,
                    now=now,
                    actor=actor,
                    kind=kind,
                    decision_id=decision_id,
                    note=note,
                    extra=data,
                )
            )
    _store_windows(rows, batch_size=batch_size)
    events.bulk(due_events)
    due_dates_changed.send(
        sender=LicenseApplication,
        application_ids=[r.application.pk for r in changed if r.old_due_at != r.new_due_at],
        now=now,
    )
    return changed


def _store_windows(rows: Sequence[LicenseApplication], *, batch_size: int) -> None:
    """Write due dates and windows of many applications. On PostgreSQL one UPDATE … FROM over
    one JSON parameter: Django's `bulk_update` builds a CASE expression per row and field,
    and even a `VALUES` list costs the driver and the parser four placeholders a row."""
    if connection.vendor != "postgresql":
        # the rows may be plain rows of the clock's fields (a fast-track pass's candidates)
        fields = ["due_at", "window_days", "window_source"]
        LicenseApplication.objects.bulk_update(
            [
                LicenseApplication(pk=a.pk, **{name: getattr(a, name) for name in fields})
                for a in rows
            ],
            fields,
            batch_size=batch_size,
        )
        return
    table = connection.ops.quote_name(LicenseApplication._meta.db_table)
    values = [
        [a.pk, a.due_at.isoformat() if a.due_at else None, a.window_days, a.window_source]
        for a in rows
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS a SET due_at = (e->>1)::timestamptz, "
            "window_days = (e->>2)::integer, window_source = e->>3 "
            "FROM jsonb_array_elements(%s::jsonb) AS e WHERE a.id = (e->>0)::bigint",
            [json.dumps(values)],
        )


def recompute_due_dates(
    *,
    now: dt.datetime,
    applications: Sequence[LicenseApplication] | None = None,
    authority_id: int | None = None,
    actor: Any = None,
    note: str = "",
    chunk: int = 2000,
) -> int:
    """Recompute the due dates of pending applications (all, one authority's, or the given
    ones) chunk by chunk; returns how many changed."""
    if applications is not None:
        with transaction.atomic():
            return len(
                save_due_dates(
                    recompute(list(applications), now=now), at=now, now=now, actor=actor, note=note
                )
            )
    qs = LicenseApplication.objects.filter(status__in=PENDING_STATUSES).order_by("id")
    if authority_id is not None:
        qs = qs.filter(authority_id=authority_id)
    total, last_id = 0, 0
    while True:
        batch = list(qs.filter(id__gt=last_id)[:chunk])
        if not batch:
            return total
        with transaction.atomic():
            total += len(
                save_due_dates(recompute(batch, now=now), at=now, now=now, actor=actor, note=note)
            )
        last_id = batch[-1].pk


# --- creation and edits ---------------------------------------------------------------------


def _check_authority_reference(application: LicenseApplication, reference: str) -> None:
    clash = LicenseApplication.objects.filter(
        authority_id=application.authority_id, authority_reference=reference
    ).exclude(pk=application.pk)
    if reference and clash.exists():
        raise InvalidInput(
            _("Another application already has this case number at this authority."),
            fields={"authority_reference": _("Already used at this authority.")},
        )


def _check_items(authority_id: int, items: Sequence[ControlledItem]) -> None:
    if any(item.authority_id != authority_id for item in items):
        raise InvalidInput(
            _("Every item must be on the authority's control list."),
            fields={"items": _("An item belongs to another authority's list.")},
        )
    units = {item.unit for item in items}
    if len(units) > 1:
        raise InvalidInput(
            _("All items of one application must be counted in the same unit."),
            fields={"items": _("Items in different units.")},
        )


def application_create(
    *, now: dt.datetime, actor: Any, items: Sequence[ControlledItem], **fields: Any
) -> LicenseApplication:
    """A new application starts as a draft."""
    with transaction.atomic():
        application = LicenseApplication(**fields)
        _check_items(application.authority_id, items)
        if application.authority_reference:
            _check_authority_reference(application, application.authority_reference)
        full_clean(application, exclude=["items"])
        application.save()
        application.items.set(items)
        events.created(application=application, now=now, actor=actor, status=application.status)
        save_due_dates(recompute([application], now=now), at=now, now=now, actor=actor)
    return application


# Fields an officer may still change once an application is submitted.
EDITABLE_AFTER_DRAFT = {"authority_reference", "quantity", "value"}


def application_update(
    *,
    application: LicenseApplication,
    now: dt.datetime,
    actor: Any,
    items: Sequence[ControlledItem] | None = None,
    **fields: Any,
) -> LicenseApplication:
    """Edit an application's facts. After submission only the case number, quantity and value
    may change (what the authority decides on is fixed once filed); the window and due date
    follow any change that touches them."""
    changed = {k: v for k, v in fields.items() if getattr(application, k) != v}
    items_changed = items is not None and {i.pk for i in items} != set(
        application.items.values_list("pk", flat=True)
    )
    if application.status != Status.DRAFT:
        locked = set(changed) - EDITABLE_AFTER_DRAFT
        if items_changed:
            locked.add("items")
        if locked:
            raise InvalidInput(
                _("Once submitted, an application's %(fields)s cannot change.")
                % {"fields": ", ".join(sorted(locked))},
                fields={f: _("Fixed once the application is submitted.") for f in locked},
            )
    with transaction.atomic():
        before = {k: getattr(application, k) for k in changed}
        for name, value in changed.items():
            setattr(application, name, value)
        if items is not None or "authority" in changed:
            # The items must be on the list of the authority the application now names.
            _check_items(
                application.authority_id,
                items if items is not None else list(application.items.all()),
            )
        if "authority_reference" in changed and application.authority_reference:
            _check_authority_reference(application, application.authority_reference)
        full_clean(application, exclude=["items"])
        application.save()
        if items_changed and items is not None:
            application.items.set(items)
        if changed or items_changed:
            edited = {
                k: [_jsonable(before[k]), _jsonable(getattr(application, k))] for k in changed
            }
            if items_changed:
                edited["items"] = [i.pk for i in items or []]
            events.edited(application=application, edited=edited, now=now, actor=actor)
            save_due_dates(recompute([application], now=now), at=now, now=now, actor=actor)
        if application.status == Status.DRAFT and "license_type" in changed:
            # A draft's license type is an input of its shipments' file-by deadlines.
            signals.changed.send(sender=LicenseApplication, now=now, draft_ids=[application.pk])
    return application


def drawdown_update(*, application_id: int, quantity: Decimal, value: Decimal) -> None:
    """Adjust the reserved totals of a general license (the caller holds the row lock)."""
    LicenseApplication.objects.filter(pk=application_id).update(
        drawn_quantity=F("drawn_quantity") + quantity, drawn_value=F("drawn_value") + value
    )


# --- exporters --------------------------------------------------------------------------------


def exporter_create(*, now: dt.datetime, actor: Any, **fields: Any) -> Exporter:
    """A new exporter, validated like any model (the caller checks the actor may create one)."""
    exporter = Exporter(**fields)
    full_clean(exporter)
    exporter.save()
    return exporter


def exporter_update(*, exporter: Exporter, now: dt.datetime, actor: Any, **fields: Any) -> Exporter:
    for name, value in fields.items():
        setattr(exporter, name, value)
    full_clean(exporter)
    exporter.save()
    return exporter
