"""Moves of an application: the one table of legal moves, their dating rules, the compare-and-
set on the state that was read, the events, and the announcement that shipments and flags
follow."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ConcurrentUpdate, IllegalMove, InvalidInput
from core.words import day_words, moment_words

from .. import events, signals
from ..clock import recompute
from ..models import (
    PENDING_STATUSES,
    ClockPause,
    ClockStart,
    LicenseApplication,
    LicenseType,
    PauseReason,
    ReferralReason,
    Status,
    status_phrase,
)
from ..signals import application_moved
from .checks import _check_authority_reference
from .due_dates import save_due_dates
from .forecasts import forecasts_after_move

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
        Move("approve", frozenset({S.SUBMITTED, S.ACCEPTED, S.REFERRED}), S.APPROVED),
        Move("reject", frozenset({S.SUBMITTED, S.ACCEPTED, S.REFERRED}), S.REJECTED),
        Move("withdraw", frozenset(PENDING_STATUSES), S.WITHDRAWN),
        # The license after approval (Art. 18): suspended, revoked, surrendered, amended.
        Move("suspend", frozenset({S.APPROVED, S.EXHAUSTED}), S.SUSPENDED),
        Move("reinstate", frozenset({S.SUSPENDED}), S.APPROVED),  # or exhausted: MAY_EXHAUST
        Move("revoke", frozenset({S.APPROVED, S.EXHAUSTED, S.SUSPENDED}), S.REVOKED),
        Move("surrender", frozenset({S.APPROVED, S.EXHAUSTED}), S.SURRENDERED),
        Move("amend", frozenset({S.APPROVED, S.EXHAUSTED}), S.AMENDMENT_REQUESTED),
        Move("approve_amendment", frozenset({S.AMENDMENT_REQUESTED}), S.APPROVED),
        Move("refuse_amendment", frozenset({S.AMENDMENT_REQUESTED}), S.APPROVED),
        # A license ends with its validity, also while suspended or while an amendment waits.
        Move(
            "expire",
            frozenset({S.APPROVED, S.SUSPENDED, S.AMENDMENT_REQUESTED}),
            S.EXPIRED,
            by_officer=False,
        ),
        # No time limit while referred (State Council, watch list, interagency review).
        Move("refer", frozenset({S.SUBMITTED, S.ACCEPTED, S.INFO_REQUESTED}), S.REFERRED),
        # Returned without action: not pending; `resubmit` starts the clock again.
        Move("return", frozenset(PENDING_STATUSES), S.RETURNED),
        Move("resubmit", frozenset({S.RETURNED}), S.SUBMITTED),
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
    "amend": "amendment_requested_at",
    "resubmit": "submitted_at",
}

# Moves back to a usable license: `approved`, or `exhausted` when shipments already reserve
# all of a general license's approved quantity or value.
MAY_EXHAUST = frozenset({"reinstate", "approve_amendment", "refuse_amendment"})

# What an amendment request stores; cleared when the authority decides it.
AMENDMENT_FIELDS = (
    "amendment_quantity",
    "amendment_value",
    "amendment_valid_until",
    "amendment_requested_at",
)


# What each move is called on buttons and in messages.
MOVE_LABELS = {
    "submit": gettext_lazy("Submit"),
    "accept": gettext_lazy("Accept"),
    "request_info": gettext_lazy("Request information"),
    "provide_info": gettext_lazy("Provide information"),
    "approve": gettext_lazy("Approve"),
    "reject": gettext_lazy("Reject"),
    "withdraw": gettext_lazy("Withdraw"),
    "suspend": gettext_lazy("Suspend"),
    "reinstate": gettext_lazy("Reinstate"),
    "revoke": gettext_lazy("Revoke"),
    "surrender": gettext_lazy("Surrender"),
    "amend": gettext_lazy("Request an amendment"),
    "approve_amendment": gettext_lazy("Approve the amendment"),
    "refuse_amendment": gettext_lazy("Refuse the amendment"),
    "refer": gettext_lazy("Refer"),
    "return": gettext_lazy("Return without action"),
    "resubmit": gettext_lazy("Resubmit"),
}


def not_legal_message(move_name: str, status: str) -> str:
    """Why a move is refused in a state, as a sentence: \"“Approve” is not possible now: the
    application is still a draft.\""""
    return _("“%(move)s” is not possible now: the application is %(state)s.") % {
        "move": MOVE_LABELS.get(move_name, move_name),
        "state": status_phrase(status),
    }


def _check_legal(application: LicenseApplication, move_name: str) -> None:
    """Refuse a move from a state it does not leave (before checking what it is given)."""
    if application.status not in MOVES[move_name].sources:
        raise IllegalMove(not_legal_message(move_name, application.status))


# Moves out of `info_requested` to another state than the one it resumes: they end the open
# pause at their moment (recorded as the event's `pause`, so that a correction can reopen it).
CLOSES_PAUSE = frozenset({"refer", "return"})


def _check_reason(reason: str | None, choices: list[str], message: str) -> None:
    """A move's `reason` must be one of its codes; else 400 naming `reason` and the codes."""
    if reason not in choices:
        raise InvalidInput(
            message,
            fields={"reason": _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}},
        )


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
        previous = moment_words(not_before)
        raise InvalidInput(
            _("A move cannot be dated before the previous move (%(prev)s).") % {"prev": previous},
            fields={"at": _("Before the previous move (%(prev)s).") % {"prev": previous}},
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
        raise IllegalMove(not_legal_message(move_name, read_status))
    at = check_moment(at=at, now=now, not_before=application.last_moved_at)
    changes = dict(changes or {})
    if move_name in DATED_FIELD:
        changes[DATED_FIELD[move_name]] = at
    if read_status == S.INFO_REQUESTED:
        # Whatever ends the request, no pause is open any more.
        changes["pause_reason"] = None
    with transaction.atomic():
        pause_id = None
        closes_pause = move_name == "provide_info" or (
            move_name in CLOSES_PAUSE and read_status == S.INFO_REQUESTED
        )
        if move_name == "request_info":
            target = S.INFO_REQUESTED
        elif closes_pause:
            pause = (
                ClockPause.objects.select_for_update()
                .filter(application=application, provided_at__isnull=True)
                .first()
            )
            if pause is None:
                raise ConcurrentUpdate(_("The information request was already answered."))
            target = S(pause.resume_status) if move.target is None else S(move.target)
            pause_id = pause.pk
        else:
            assert move.target is not None
            target = S(move.target)
            if move_name in MAY_EXHAUST:
                locked = LicenseApplication.objects.select_for_update().get(pk=application.pk)
                if fully_drawn(locked, changes):
                    target = S.EXHAUSTED
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
                application=application,
                requested_at=at,
                resume_status=read_status,
                reason=changes.get("pause_reason") or PauseReason.INFORMATION,
            ).pk
        elif closes_pause:
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
        # Not announced as new due dates: `changed` below re-evaluates every flag of the
        # application and its shipments, those that due dates decide included.
        save_due_dates(
            recompute([application], now=now), at=at, now=now, actor=actor, announce=False
        )
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
        # Its forecast and its authority's (a decision changes their history), then, explicitly
        # after its shipments followed it, the flags of both.
        forecasts_after_move(application=application, now=now)
        signals.changed.send(sender=LicenseApplication, now=now, application_ids=[application.pk])
    return application


def application_submit(
    *,
    application: LicenseApplication,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
) -> LicenseApplication:
    if not application.items.exists():
        raise InvalidInput(
            _("Name at least one controlled item before submitting."),
            fields={"items": _("No controlled item.")},
        )
    return _move(application, "submit", at=at, now=now, actor=actor, note=note)


def application_accept(
    *,
    application: LicenseApplication,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
    authority_reference: str | None = None,
) -> LicenseApplication:
    """The authority accepted the case for review. Where the clock starts at acceptance
    (MOFCOM), acceptance is when the authority gives its case number: the case number is
    required, given now or already recorded on the application."""
    authority_reference = (authority_reference or "").strip() or None
    _check_legal(application, "accept")
    if (
        not authority_reference
        and not application.authority_reference
        and application.authority.clock_starts == ClockStart.ACCEPTED
    ):
        raise InvalidInput(
            _("%(authority)s gives its case number on acceptance: record it with the acceptance.")
            % {"authority": application.authority.code},
            fields={"authority_reference": _("Give the authority's case number.")},
        )
    changes = {"authority_reference": authority_reference} if authority_reference else {}
    if authority_reference:
        _check_authority_reference(application, authority_reference)
    return _move(application, "accept", at=at, now=now, actor=actor, note=note, changes=changes)


def application_request_info(
    *,
    application: LicenseApplication,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
    reason: str | None = None,
) -> LicenseApplication:
    """The authority stopped the clock: it asks for information (`information`, the default),
    or has the case reviewed by experts, inspected on site, or the item identified."""
    reason = reason or PauseReason.INFORMATION
    _check_reason(reason, PauseReason.values, _("Unknown reason for the pause."))
    return _move(
        application,
        "request_info",
        at=at,
        now=now,
        actor=actor,
        note=note,
        changes={"pause_reason": reason},
    )


def application_provide_info(
    *,
    application: LicenseApplication,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
) -> LicenseApplication:
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
        errors["valid_until"] = _("Before the approval (%(day)s).") % {
            "day": day_words(approval_day)
        }
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
    *,
    application: LicenseApplication,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
    reason: str,
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


def application_withdraw(
    *,
    application: LicenseApplication,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
) -> LicenseApplication:
    return _move(application, "withdraw", at=at, now=now, actor=actor, note=note)


def application_refer(
    *,
    application: LicenseApplication,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
    reason: str,
) -> LicenseApplication:
    """The case was referred (reported to the State Council, an end user on the watch list,
    an interagency review): it stays pending with no time limit. An open request for
    information ends at the referral."""
    _check_reason(reason, ReferralReason.values, _("Give the reason for the referral."))
    return _move(
        application,
        "refer",
        at=at,
        now=now,
        actor=actor,
        note=note,
        changes={"referral_reason": reason},
    )


def application_return(
    *,
    application: LicenseApplication,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
) -> LicenseApplication:
    """The authority returned the application without action: no longer pending, its
    shipments go back to planned."""
    return _move(application, "return", at=at, now=now, actor=actor, note=note)


def application_resubmit(
    *,
    application: LicenseApplication,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
) -> LicenseApplication:
    """A returned application filed again: the clock starts afresh, day 0 the resubmission
    (`submitted_at` moves to it, an acceptance is needed again, earlier pauses no longer
    count). The previous values are in the event, so that a correction restores them."""
    return _move(
        application,
        "resubmit",
        at=at,
        now=now,
        actor=actor,
        note=note,
        changes={"accepted_at": None, "referral_reason": None},
    )


def application_expire(
    *, application: LicenseApplication, now: dt.datetime, at: dt.datetime | None = None
) -> LicenseApplication:
    """The daily job's move: a license past its validity (approved, suspended, or with an
    amendment waiting: the request lapses with the license)."""
    return _move(
        application,
        "expire",
        at=at,
        now=now,
        actor=None,
        note=_("Validity ended."),
        changes={name: None for name in AMENDMENT_FIELDS if getattr(application, name) is not None},
    )


def application_exhaust(
    *, application: LicenseApplication, now: dt.datetime, actor: Any = None, note: str = ""
) -> LicenseApplication:
    at = max(now, application.last_moved_at) if application.last_moved_at else now
    return _move(application, "exhaust", at=at, now=at, actor=actor, note=note)


def application_replenish(
    *, application: LicenseApplication, now: dt.datetime, actor: Any = None, note: str = ""
) -> LicenseApplication:
    at = max(now, application.last_moved_at) if application.last_moved_at else now
    return _move(application, "replenish", at=at, now=at, actor=actor, note=note)


# --- the license after approval ----------------------------------------------------------------


def fully_drawn(application: LicenseApplication, changes: dict[str, Any] | None = None) -> bool:
    """Whether shipments reserve all of a general license's approved quantity or value (the
    approved amounts as `changes` will set them, when it names them)."""
    if application.license_type != LicenseType.GENERAL:
        return False
    changes = changes or {}
    quantity = changes.get("approved_quantity", application.approved_quantity)
    value = changes.get("approved_value", application.approved_value)
    return (quantity is not None and application.drawn_quantity >= quantity) or (
        value is not None and application.drawn_value >= value
    )


def application_suspend(
    *,
    application: LicenseApplication,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
) -> LicenseApplication:
    """The authority suspended the license: its shipments not yet shipped wait again
    (`awaiting_license`) and cannot ship until it is reinstated."""
    return _move(application, "suspend", at=at, now=now, actor=actor, note=note)


def application_reinstate(
    *,
    application: LicenseApplication,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
) -> LicenseApplication:
    """The suspension ended: `approved` again, or `exhausted` when it is fully drawn."""
    return _move(application, "reinstate", at=at, now=now, actor=actor, note=note)


def application_revoke(
    *,
    application: LicenseApplication,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
) -> LicenseApplication:
    """The authority revoked the license (final). Its shipments not yet shipped go back to
    `planned`, still linked to it like under an expired license, and their reservations on a
    general license are released (the shipments' side, on `application_moved`)."""
    return _move(application, "revoke", at=at, now=now, actor=actor, note=note)


def application_surrender(
    *,
    application: LicenseApplication,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
) -> LicenseApplication:
    """The exporter gave the license back (final); its shipments as for a revocation."""
    return _move(application, "surrender", at=at, now=now, actor=actor, note=note)


def new_application_needed(fields: list[str]) -> InvalidInput:
    """The refusal of an amendment naming what only a new application can change."""
    message = _(
        "A change of item, destination or consignee is not an amendment: it needs a new "
        "application (Art. 18)."
    )
    return InvalidInput(
        message, fields={name: _("Needs a new application (Art. 18).") for name in fields}
    )


# What an amendment cannot change (`amend/` naming one answers that it needs a new application).
NOT_AMENDABLE = ("item", "items", "destination", "consignee")


def application_amend(
    *,
    application: LicenseApplication,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
    quantity: Decimal | None = None,
    value: Decimal | None = None,
    valid_until: dt.date | None = None,
    **other: Any,
) -> LicenseApplication:
    """Ask the authority to amend the license: a new quantity, value and/or validity (at least
    one), with a note. The license stays usable meanwhile and the authority's amendment window
    runs from the day of the request. A change of item, destination or consignee needs a new
    application instead."""
    barred = [name for name in NOT_AMENDABLE if name in other]
    if barred:
        raise new_application_needed(barred)
    if other:
        raise TypeError(f"application_amend() got unexpected arguments {sorted(other)}")
    _check_legal(application, "amend")
    errors: dict[str, str] = {}
    if quantity is None and value is None and valid_until is None:
        message = _("Give the new quantity, value or validity the amendment asks for.")
        raise InvalidInput(
            message,
            fields={
                "quantity": _("Give at least one new value."),
                "value": _("Give at least one new value."),
                "valid_until": _("Give at least one new value."),
            },
        )
    if not (note or "").strip():
        errors["note"] = _("Say what the amendment is for.")
    if quantity is not None and quantity <= 0:
        errors["quantity"] = _("Must be more than zero.")
    if value is not None and value <= 0:
        errors["value"] = _("Must be more than zero.")
    day = (at or now).astimezone(application.authority.tz).date()
    if valid_until is not None and valid_until < day:
        errors["valid_until"] = _("Before the day of the request (%(day)s).") % {
            "day": day_words(day)
        }
    if errors:
        raise InvalidInput(_("The amendment request is incomplete."), fields=errors)
    return _move(
        application,
        "amend",
        at=at,
        now=now,
        actor=actor,
        note=note.strip(),
        changes={
            "amendment_quantity": quantity,
            "amendment_value": value,
            "amendment_valid_until": valid_until,
        },
    )


def _clear_amendment(application: LicenseApplication) -> dict[str, Any]:
    return {name: None for name in AMENDMENT_FIELDS if getattr(application, name) is not None}


def application_approve_amendment(
    *,
    application: LicenseApplication,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
) -> LicenseApplication:
    """The authority granted the amendment: its values become the license's, refused if the
    new quantity or value is below what shipments already reserve, or the new validity ends
    before the approval. Then `approved`, or `exhausted` when fully drawn."""
    with transaction.atomic():
        locked = LicenseApplication.objects.select_for_update().get(pk=application.pk)
        if locked.status != application.status:
            raise ConcurrentUpdate(_("The application was changed by someone else meanwhile."))
        _check_legal(locked, "approve_amendment")
        changes: dict[str, Any] = _clear_amendment(locked)
        errors: dict[str, str] = {}
        if locked.amendment_quantity is not None:
            if locked.amendment_quantity < locked.drawn_quantity:
                errors["quantity"] = _("Below the %(drawn)s shipments already reserve.") % {
                    "drawn": locked.drawn_quantity
                }
            changes["approved_quantity"] = locked.amendment_quantity
        if locked.amendment_value is not None:
            if locked.amendment_value < locked.drawn_value:
                errors["value"] = _("Below the %(drawn)s shipments already reserve.") % {
                    "drawn": locked.drawn_value
                }
            changes["approved_value"] = locked.amendment_value
        if locked.amendment_valid_until is not None:
            day = (at or now).astimezone(locked.authority.tz).date()
            if locked.amendment_valid_until < day:
                errors["valid_until"] = _("Before the approval (%(day)s).") % {
                    "day": day_words(day)
                }
            changes["valid_until"] = locked.amendment_valid_until
        if errors:
            message = _("The amendment cannot be approved as asked.")
            if "quantity" in errors or "value" in errors:
                message = _("Shipments already reserve more than the amended license would allow.")
            raise InvalidInput(message, fields=errors)
        return _move(
            application,
            "approve_amendment",
            at=at,
            now=now,
            actor=actor,
            note=note,
            changes=changes,
        )


def application_refuse_amendment(
    *,
    application: LicenseApplication,
    at: dt.datetime | None = None,
    now: dt.datetime,
    actor: Any,
    note: str = "",
) -> LicenseApplication:
    """The authority refused the amendment: the license stays as it was (`approved`, or
    `exhausted` when fully drawn)."""
    return _move(
        application,
        "refuse_amendment",
        at=at,
        now=now,
        actor=actor,
        note=note,
        changes=_clear_amendment(application),
    )
