"""Every kind of event, defined once: the keys of its `data` and their types, which subject it
belongs to (an application, a shipment, or both), whether it carries from/to statuses, and how
the timeline describes it.

The writers (`write.py`) check a payload against its definition when it is written; the
timeline (`licenses.timeline`) describes every event through it, and must cope with whatever
older code stored (a list, no data, unknown or missing keys, a kind no longer known): the
describers read `data` defensively and never assume a key or a type.
"""

import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, NotRequired, Required, TypedDict

from django.utils import formats
from django.utils.translation import gettext as _

from core.web import show_date, show_datetime

from ..models import EventKind, PauseReason, ReferralReason

# --- payloads ---------------------------------------------------------------------------------


class CreatedData(TypedDict):
    """No data: the new status is the event's `to_status`."""


class EditedData(TypedDict):
    # field -> [old, new] (applications; "items": the new item ids) or field -> new (shipments)
    edited: dict[str, Any]


class StatusChangedData(TypedDict, total=False):
    move: Required[str]
    previous_moved_at: str | None  # an application's move
    changes: dict[str, Any]  # field -> [old, new]
    pause: int  # the clock pause a request for information opened or closed
    application_status: str  # a shipment following its application
    correction: int  # the correction of the application that made a shipment follow
    license_required: bool  # "requirement": a shipment's need for a license changed
    measures: list[str]  # "requirement": the measures that apply on its ship date
    # "ship": what left (older ship events have none of these)
    shipped_quantity: str  # a decimal string, in `unit`
    unit: str
    transport_document: str
    customs_declaration: str


DueDateData = TypedDict(
    "DueDateData",
    {
        "from": str | None,
        "to": str | None,
        "window_days": int,
        "source": str,
        "change_days": int | None,
        "rule": NotRequired[int],
        "rule_change": NotRequired[str],
    },
)


class FlagRaisedData(TypedDict, total=False):
    flag: Required[str]
    flag_id: Required[int]
    # what caused it, by flag kind (`monitoring.scan.DETAILS`)
    status: str | None
    due_at: str | None
    valid_until: str | None
    planned_ship_date: str | None
    application_id: int | None
    application_due_at: str | None
    application_valid_until: str | None
    application_forecast_p50: str | None
    file_by_date: str | None
    reply_due_at: str | None
    license_required: bool | None
    license_required_today: bool | None


class FlagClearedData(TypedDict):
    flag: str
    flag_id: int


class DrawdownData(TypedDict):
    # amounts as decimal strings; the approved ones "" on a license not yet approved
    quantity: str
    value: str
    unit: str
    currency: str
    drawn_quantity: str
    drawn_value: str
    approved_quantity: str
    approved_value: str
    # A shipment shipped ("ship") or its shipping undone ("ship_undone"): what it shipped, and
    # `quantity`/`value` the difference from its reservation, drawn (`drawdown`) or given
    # back (`drawdown_released`); "0" when it shipped what it reserved.
    move: NotRequired[Literal["ship", "ship_undone"]]
    shipped_quantity: NotRequired[str]
    shipped_value: NotRequired[str]


CorrectionData = TypedDict(
    "CorrectionData",
    {
        "action": Literal["undo", "redate"],
        "move": str,
        "undone_at": NotRequired[str | None],
        "from": NotRequired[str | None],
        "to": NotRequired[str | None],
    },
)


class AssignedData(TypedDict):
    from_application: int | None
    to_application: int | None


class DocumentAddedData(TypedDict):
    document: int
    kind: str
    filename: str
    size: int


# --- how the timeline describes an event -----------------------------------------------------


@dataclass(frozen=True)
class Describer:
    """What a describer needs from the timeline: labels of the codes on the event's side."""

    label: Callable[[str], str]  # a status or "flag:<kind>" code, for people
    move: Callable[[str], str | None]  # a move's name, for people (None: not a known move)
    window_source: Callable[[str], str]
    window_unit: str


# A describer returns the title (None: the kind's label) and the detail lines.
Description = tuple[str | None, list[str]]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _moment(value: Any) -> str:
    return show_datetime(value) if value is None or isinstance(value, str) else _text(value)


def _day(value: Any) -> str:
    return show_date(value) if value is None or isinstance(value, str) else _text(value)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _new(change: Any) -> Any:
    """The new value of a stored [old, new] pair (or the value itself)."""
    if isinstance(change, list | tuple) and len(change) == 2:
        return change[1]
    return change


def _amount(value: Any) -> str:
    if value in (None, ""):
        return ""
    try:
        number = Decimal(str(value))
        if not number.is_finite():
            return str(value)
        return formats.number_format(number, use_l10n=True, force_grouping=True)
    except ArithmeticError:
        return str(value)


def _quantity(value: Any) -> str:
    """A quantity without trailing zeros: 480.000 reads 480, 250.500 reads 250.5."""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return _amount(value)
    if number.is_finite() and number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    elif number.is_finite():
        number = number.normalize()
    return _amount(number)


def _is_zero(value: Any) -> bool:
    try:
        return Decimal(str(value)) == 0
    except ArithmeticError:
        return False


def _statuses(e: Any, d: Describer) -> str:
    return _("Status: %(from)s → %(to)s") % {
        "from": d.label(e.from_status),
        "to": d.label(e.to_status),
    }


def _describe_created(data: Mapping[str, Any], e: Any, d: Describer) -> Description:
    # The record was made in the tracker at this moment; moves dated earlier (a submission
    # entered after the fact) are listed before it, at the moment they happened.
    return _("Recorded in the tracker"), [
        _("Status when recorded: %(s)s") % {"s": d.label(e.to_status)}
    ]


def _describe_edited(data: Mapping[str, Any], e: Any, d: Describer) -> Description:
    details = []
    edited = data.get("edited")
    if isinstance(edited, Mapping):
        for name, change in edited.items():
            if isinstance(change, list) and len(change) == 2:
                details.append(
                    _("%(field)s: %(old)s → %(new)s")
                    % {"field": name, "old": change[0], "new": change[1]}
                )
            else:
                details.append(_("%(field)s: %(new)s") % {"field": name, "new": change})
    return None, details


def _describe_change_message(message: list[Any]) -> list[str]:
    """An `edited` event older code stored as the Django admin's change message: a list of
    {"changed": {"fields": [...]}} (or "added"/"deleted") entries."""
    details = []
    for part in message:
        changed = _mapping(_mapping(part).get("changed"))
        fields = changed.get("fields")
        if isinstance(fields, list) and fields:
            details.append(_("Changed: %(fields)s") % {"fields": ", ".join(map(str, fields))})
        elif part not in (None, "", {}, []):
            details.append(_text(part))
    return details


def _describe_status_changed(data: Mapping[str, Any], e: Any, d: Describer) -> Description:
    move = _text(data.get("move"))
    title = d.move(move)
    details = [_statuses(e, d)]
    changes = _mapping(data.get("changes"))
    if number := _new(changes.get("license_number")):
        details.append(_("License number: %(n)s") % {"n": number})
    if valid_until := _new(changes.get("valid_until")):
        details.append(_("Valid until: %(d)s") % {"d": _day(valid_until)})
    if reference := _new(changes.get("authority_reference")):
        details.append(_("Authority's case number: %(n)s") % {"n": reference})
    if reason := _new(changes.get("rejection_reason")):
        details.append(_("Reason: %(r)s") % {"r": reason})
    # An amendment: what it asks for, then what its approval changed.
    if (asked := _new(changes.get("amendment_quantity"))) not in (None, ""):
        details.append(_("Quantity asked for: %(q)s") % {"q": _amount(asked)})
    if (asked := _new(changes.get("amendment_value"))) not in (None, ""):
        details.append(_("Value asked for: %(v)s") % {"v": _amount(asked)})
    if asked := _new(changes.get("amendment_valid_until")):
        details.append(_("Validity asked for: until %(d)s") % {"d": _day(asked)})
    if move == "approve_amendment":
        for key, label in (
            ("approved_quantity", _("Approved quantity")),
            ("approved_value", _("Approved value")),
        ):
            change = changes.get(key)
            if isinstance(change, list | tuple) and len(change) == 2:
                details.append(
                    _("%(field)s: %(old)s → %(new)s")
                    % {"field": label, "old": _amount(change[0]), "new": _amount(change[1])}
                )
    if pause := _new(changes.get("pause_reason")):
        pause_label = PauseReason(pause).label if pause in PauseReason.values else pause
        details.append(_("Why the clock stops: %(r)s") % {"r": pause_label})
    if referral := _new(changes.get("referral_reason")):
        referral_label = (
            ReferralReason(referral).label if referral in ReferralReason.values else referral
        )
        details.append(_("Referred: %(r)s") % {"r": referral_label})
    if move == "resubmit":
        details.append(_("The clock starts again: nothing before this day counts."))
    if move == "ship":
        if (shipped := data.get("shipped_quantity")) not in (None, ""):
            details.append(
                _("Shipped quantity: %(q)s %(unit)s")
                % {"q": _quantity(shipped), "unit": _text(data.get("unit"))}
            )
        if document := data.get("transport_document"):
            details.append(_("Transport document: %(d)s") % {"d": _text(document)})
        if declaration := data.get("customs_declaration"):
            details.append(_("Customs declaration (MRN): %(d)s") % {"d": _text(declaration)})
    if move == "follow" and data.get("correction"):
        details.append(_("Its application's latest move was corrected."))
    if move == "requirement":
        if data.get("license_required"):
            details.append(_("A license is now required on its planned ship date."))
        else:
            details.append(_("No license is required on its planned ship date any more."))
        measures = data.get("measures")
        if isinstance(measures, list) and measures:
            details.append(_("Measures: %(refs)s") % {"refs": ", ".join(map(str, measures))})
    return title, details


def _describe_due_date(data: Mapping[str, Any], e: Any, d: Describer) -> Description:
    details = [
        _("Due: %(old)s → %(new)s")
        % {
            "old": _moment(data.get("from")) or _("none"),
            "new": _moment(data.get("to")) or _("none (clock stopped or closed)"),
        }
    ]
    if data.get("window_days"):
        details.append(
            _("Window: %(days)s %(unit)s (%(source)s)")
            % {
                "days": data["window_days"],
                "unit": d.window_unit or _("days"),
                "source": d.window_source(_text(data.get("source"))),
            }
        )
    return None, details


def _describe_flag(data: Mapping[str, Any], e: Any, d: Describer) -> Description:
    kind = _text(data.get("kind") or data.get("flag"))
    if not kind:
        return None, []
    return None, [_("Flag: %(kind)s") % {"kind": d.label("flag:" + kind)}]


def _describe_drawdown(data: Mapping[str, Any], e: Any, d: Describer) -> Description:
    move = data.get("move")
    if move in ("ship", "ship_undone"):
        return _describe_shipped_drawdown(data, e, move)
    return None, [
        _("%(q)s %(unit)s, %(v)s %(cur)s; drawn now %(dq)s %(unit)s, %(dv)s %(cur)s")
        % {
            "q": _amount(data.get("quantity")),
            "unit": _text(data.get("unit")),
            "v": _amount(data.get("value")),
            "cur": _text(data.get("currency")),
            "dq": _amount(data.get("drawn_quantity")),
            "dv": _amount(data.get("drawn_value")),
        }
    ]


def _describe_shipped_drawdown(data: Mapping[str, Any], e: Any, move: str) -> Description:
    """A shipment shipped (or its shipping undone): what it shipped, the difference from its
    reservation drawn or given back, and the license's totals after it."""
    amounts = {
        "sq": _quantity(data.get("shipped_quantity")),
        "sv": _amount(data.get("shipped_value")),
        "q": _quantity(data.get("quantity")),
        "v": _amount(data.get("value")),
        "unit": _text(data.get("unit")),
        "cur": _text(data.get("currency")),
    }
    released = e.kind == EventKind.DRAWDOWN_RELEASED
    nothing = _is_zero(data.get("quantity")) and _is_zero(data.get("value"))
    if move == "ship":
        title = _("Shipped against the license")
        first = _("Shipped %(sq)s %(unit)s, %(sv)s %(cur)s") % amounts
        if nothing:
            change = _("as reserved")
        elif released:
            change = _("%(q)s %(unit)s, %(v)s %(cur)s given back") % amounts
        else:
            change = _("%(q)s %(unit)s, %(v)s %(cur)s more drawn") % amounts
    else:
        title = _("Shipping undone: reservation restored")
        first = _("Undone: %(sq)s %(unit)s, %(sv)s %(cur)s shipped") % amounts
        if nothing:
            change = _("the reservation is unchanged")
        elif released:
            change = _("%(q)s %(unit)s, %(v)s %(cur)s given back") % amounts
        else:
            change = _("%(q)s %(unit)s, %(v)s %(cur)s reserved again") % amounts
    totals = _("drawn now %(dq)s %(unit)s, %(dv)s %(cur)s") % {
        "dq": _quantity(data.get("drawn_quantity")),
        "dv": _amount(data.get("drawn_value")),
        "unit": amounts["unit"],
        "cur": amounts["cur"],
    }
    return title, [
        _("%(shipped)s; %(change)s; %(totals)s")
        % {"shipped": first, "change": change, "totals": totals}
    ]


def _describe_assigned(data: Mapping[str, Any], e: Any, d: Describer) -> Description:
    return None, [_statuses(e, d)]


def _describe_correction(data: Mapping[str, Any], e: Any, d: Describer) -> Description:
    move = _text(data.get("move"))
    move_label = d.move(move) or move
    if data.get("action") == "undo":
        return _("Correction: “%(move)s” undone") % {"move": move_label}, [
            _("Status back: %(from)s → %(to)s")
            % {"from": d.label(e.from_status), "to": d.label(e.to_status)}
        ]
    return _("Correction: “%(move)s” re-dated") % {"move": move_label}, [
        _("From %(old)s to %(new)s")
        % {"old": _moment(data.get("from")), "new": _moment(data.get("to"))}
    ]


def _describe_nothing(data: Mapping[str, Any], e: Any, d: Describer) -> Description:
    return None, []


# --- the definitions ------------------------------------------------------------------------

APPLICATION = frozenset({"application"})
SHIPMENT = frozenset({"shipment"})
BOTH = frozenset({"application", "shipment"})


@dataclass(frozen=True)
class KindDefinition:
    kind: EventKind
    payload: Any  # the TypedDict of `data`
    # the subjects an event of this kind may name, each combination allowed
    subjects: tuple[frozenset[str], ...]
    # which statuses it sets: "" none, "to" the new one only, "both" from and to
    statuses: Literal["", "to", "both"]
    describe: Callable[[Mapping[str, Any], Any, Describer], Description]
    # whose status labels its codes use: its subject's, or (drawdowns) the application's
    application_labels: bool = False
    keys: frozenset[str] = field(init=False)
    required: frozenset[str] = field(init=False)
    types: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", frozenset(self.payload.__annotations__))
        object.__setattr__(self, "required", frozenset(self.payload.__required_keys__))
        object.__setattr__(self, "types", typing.get_type_hints(self.payload))


KINDS: dict[str, KindDefinition] = {
    d.kind: d
    for d in (
        KindDefinition(
            EventKind.CREATED, CreatedData, (APPLICATION, SHIPMENT), "to", _describe_created
        ),
        KindDefinition(EventKind.EDITED, EditedData, (APPLICATION, SHIPMENT), "", _describe_edited),
        KindDefinition(
            EventKind.STATUS_CHANGED,
            StatusChangedData,
            (APPLICATION, SHIPMENT, BOTH),
            "both",
            _describe_status_changed,
        ),
        KindDefinition(
            EventKind.DUE_DATE_CHANGED, DueDateData, (APPLICATION,), "", _describe_due_date
        ),
        KindDefinition(
            EventKind.FAST_TRACK_APPLIED, DueDateData, (APPLICATION,), "", _describe_due_date
        ),
        KindDefinition(
            EventKind.FAST_TRACK_REMOVED, DueDateData, (APPLICATION,), "", _describe_due_date
        ),
        KindDefinition(
            EventKind.FLAG_RAISED, FlagRaisedData, (APPLICATION, SHIPMENT), "", _describe_flag
        ),
        KindDefinition(
            EventKind.FLAG_CLEARED, FlagClearedData, (APPLICATION, SHIPMENT), "", _describe_flag
        ),
        KindDefinition(EventKind.DRAWDOWN, DrawdownData, (BOTH,), "", _describe_drawdown, True),
        KindDefinition(
            EventKind.DRAWDOWN_RELEASED, DrawdownData, (BOTH,), "", _describe_drawdown, True
        ),
        KindDefinition(
            EventKind.CORRECTION,
            CorrectionData,
            (APPLICATION, SHIPMENT),
            "both",
            _describe_correction,
        ),
        KindDefinition(
            EventKind.ASSIGNED, AssignedData, (SHIPMENT, BOTH), "both", _describe_assigned
        ),
        KindDefinition(
            EventKind.DOCUMENT_ADDED, DocumentAddedData, (APPLICATION,), "", _describe_nothing
        ),
    )
}
assert set(KINDS) == set(EventKind.values), "every kind of event needs its definition"


def payload(event: Any) -> dict[str, Any]:
    """A stored event's data as a mapping to read keys from (empty when older code stored
    something else: a list, a number, JSON null)."""
    return event.data if isinstance(event.data, dict) else {}


def describe(kind: str, data: Any, event: Any, describer: Describer) -> Description:
    """The title (None: the kind's label) and detail lines of a stored event, whatever its data
    holds: a kind no longer known has none, an `edited` stored as a list is an old admin change
    message, anything else not a mapping reads as empty."""
    if kind == EventKind.EDITED and isinstance(data, list):
        return None, _describe_change_message(data)
    definition = KINDS.get(kind)
    if definition is None:
        return None, []
    return definition.describe(_mapping(data), event, describer)


# --- checking a payload ---------------------------------------------------------------------


def _is(value: Any, expected: Any) -> bool:
    if expected is Any:
        return True
    origin = typing.get_origin(expected)
    if origin in (typing.Union, types.UnionType):
        return any(_is(value, a) for a in typing.get_args(expected))
    if origin is Literal:
        return value in typing.get_args(expected)
    if origin is not None:
        return isinstance(value, origin)
    if expected is type(None):
        return value is None
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def _name(expected: Any) -> str:
    return expected.__name__ if isinstance(expected, type) else str(expected).replace("typing.", "")


def check_keys(definition: KindDefinition, data: Any) -> None:
    """Refuse data whose keys are not those of the kind (the cheap check of `bulk`)."""
    if not isinstance(data, dict):
        raise TypeError(
            f"A {definition.kind} event's data must be a dict, not {type(data).__name__}."
        )
    keys = data.keys()
    if not (definition.required <= keys <= definition.keys):
        unknown, missing = sorted(keys - definition.keys), sorted(definition.required - keys)
        raise ValueError(
            f"A {definition.kind} event's data does not match its definition "
            f"({definition.payload.__name__}): unknown keys {unknown}, missing keys {missing}."
        )


def check_data(kind: str, data: Any) -> KindDefinition:
    """Refuse data that is not the payload of `kind`: unknown or missing keys, a wrong type."""
    definition = definition_of(kind)
    check_keys(definition, data)
    for key, value in data.items():
        expected = definition.types[key]
        if not _is(value, expected):
            raise TypeError(
                f"A {kind} event's {key!r} must be {_name(expected)}, "
                f"not {type(value).__name__} ({value!r})."
            )
    return definition


def check_subjects(
    definition: KindDefinition,
    *,
    application: bool,
    shipment: bool,
    from_status: str,
    to_status: str,
) -> None:
    """Refuse an event naming subjects or setting statuses its kind does not."""
    named = frozenset(n for n, on in (("application", application), ("shipment", shipment)) if on)
    if named not in definition.subjects:
        allowed = " or ".join("+".join(sorted(s)) for s in definition.subjects)
        raise ValueError(
            f"A {definition.kind} event names {'+'.join(sorted(named)) or 'no subject'}; "
            f"it names {allowed}."
        )
    has = ("from" if from_status else "") + ("to" if to_status else "")
    wanted = {"": "", "to": "to", "both": "fromto"}[definition.statuses]
    if has != wanted:
        raise ValueError(
            f"A {definition.kind} event sets statuses {from_status!r} → {to_status!r}; "
            f"its kind sets {definition.statuses or 'none'}."
        )


def definition_of(kind: str) -> KindDefinition:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"Unknown kind of event: {kind!r}.") from None
