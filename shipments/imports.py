"""CSV import of shipments: all or nothing, with a row-by-row report of every error.

Steps:
1. Refuse a file over the size limit, in no encoding we read, without the template's header,
   or with more rows than the limit. The encoding is UTF-8 (with or without the byte-order
   mark Excel writes) or else GB18030, which covers GBK and GB2312 (what Excel saves on a
   Chinese Windows); the delimiter is the comma, semicolon or tab found most in the header.
2. Check every row on its own (required columns, numbers, dates, codes) and against what the
   importing user may see (exporter, consignee, application) — collecting every error as
   (row, column, message) rather than stopping at the first.
3. Only if no row has an error, create all shipments through `shipment_create` in one
   transaction; an error the services raise (an overdraw, say) rolls everything back and is
   reported against its row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.countries import is_country
from core.errors import DomainError
from licenses.models import ControlledItem, Exporter, LicenseApplication
from licenses.selectors import scope

from .models import Consignee, Shipment
from .services import shipment_create

COLUMNS = [
    "reference",
    "exporter_registration_number",
    "authority",
    "item_code",
    "quantity",
    "value",
    "currency",
    "destination",
    "consignee",
    "planned_ship_date",
    "application_reference",
]
REQUIRED = set(COLUMNS) - {"application_reference", "consignee"}
# A refusal from the services names a model field; the report names the file's column.
FIELD_COLUMNS = {
    "exporter": "exporter_registration_number",
    "item": "item_code",
    "application": "application_reference",
}
# The example row names the demo's first exporter, one of its consignees and an item on the
# list, and no application (every individual license of the demo already covers a shipment),
# so the template imports as it is on a fresh demo. Its ship date is a month ahead.
EXAMPLE = {
    "reference": "SHP-TEMPLATE-1",
    "exporter_registration_number": "91360700-DEMO-GZRE",
    "authority": "MOFCOM",
    "item_code": "1C902",
    "quantity": "250.000",
    "value": "75000.00",
    "currency": "USD",
    "destination": "DE",
    "consignee": "Rheinland Magnettechnik GmbH",
    "application_reference": "",
}
EXAMPLE_DAYS_AHEAD = 30
ENCODINGS = ("utf-8-sig", "gb18030")
DELIMITERS = (",", ";", "\t")
# In "30 February 2027 is not a date", by name; Chinese writes 2月 (Django's own names are 二月).
MONTHS = {
    1: pgettext_lazy("month of a date", "January"),
    2: pgettext_lazy("month of a date", "February"),
    3: pgettext_lazy("month of a date", "March"),
    4: pgettext_lazy("month of a date", "April"),
    5: pgettext_lazy("month of a date", "May"),
    6: pgettext_lazy("month of a date", "June"),
    7: pgettext_lazy("month of a date", "July"),
    8: pgettext_lazy("month of a date", "August"),
    9: pgettext_lazy("month of a date", "September"),
    10: pgettext_lazy("month of a date", "October"),
    11: pgettext_lazy("month of a date", "November"),
    12: pgettext_lazy("month of a date", "December"),
}
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", 1024 * 1024))


def max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", 2000))


def template_csv(*, today: dt.date) -> str:
    """The header and one example row, shipping `EXAMPLE_DAYS_AHEAD` days after `today`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    ship = (today + dt.timedelta(days=EXAMPLE_DAYS_AHEAD)).isoformat()
    example = EXAMPLE | {"planned_ship_date": ship}
    writer.writerow([example[c] for c in COLUMNS])
    return buffer.getvalue()


def decode(data: bytes) -> str | None:
    """The text of the file in the first encoding of `ENCODINGS` that reads it, else None."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def delimiter(text: str) -> str:
    """The delimiter found most often in the header line; a comma if none is."""
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_date(raw: str) -> tuple[dt.date | None, str]:
    """The date written as YYYY-MM-DD, or None and a message naming what is wrong with it."""
    match = ISO_DATE.fullmatch(raw)
    if not match:
        return None, _("Use a date as YYYY-MM-DD.")
    year, month, day = (int(part) for part in match.groups())
    if not 1 <= month <= 12:
        return None, _("There is no month %(month)d; use a date as YYYY-MM-DD.") % {"month": month}
    try:
        return dt.date(year, month, day), ""
    except ValueError:
        return None, _("%(day)d %(month)s %(year)d is not a date.") % {
            "day": day,
            "month": MONTHS[month],
            "year": year,
        }


@dataclass
class RowError:
    row: int  # 1 is the header; data starts at 2, as a spreadsheet shows it
    column: str
    message: str


@dataclass
class ImportResult:
    errors: list[RowError] = field(default_factory=list)
    created: list[Shipment] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def import_shipments(*, data: bytes, user: Any, now: dt.datetime) -> ImportResult:
    """Import a CSV file as the given user; nothing is stored unless every row is valid."""
    result = ImportResult()
    if len(data) > max_bytes():
        result.errors.append(
            RowError(0, "", _("The file is larger than %(kb)d KB.") % {"kb": max_bytes() // 1024})
        )
        return result
    text = decode(data)
    if text is None:
        result.errors.append(
            RowError(0, "", _("The file is neither UTF-8 nor GB18030 (GBK) encoded text."))
        )
        return result
    if "\x00" in text:
        result.errors.append(RowError(0, "", _("The file contains NUL bytes; it is not a CSV.")))
        return result
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        if missing:
            result.errors.append(
                RowError(1, ", ".join(missing), _("Missing columns; use the template."))
            )
        if unknown:
            result.errors.append(RowError(1, ", ".join(unknown), _("Unknown columns.")))
        return result
    reader.fieldnames = header
    rows = list(reader)
    result.rows = len(rows)
    if not rows:
        result.errors.append(RowError(0, "", _("The file has no rows.")))
        return result
    if len(rows) > max_rows():
        result.errors.append(RowError(0, "", _("At most %(n)d rows per file.") % {"n": max_rows()}))
        return result

    checker = _RowChecker(user)
    parsed = []
    for number, row in enumerate(rows, start=2):
        fields, errors = checker.check(number, {k: (v or "").strip() for k, v in row.items() if k})
        result.errors.extend(errors)
        parsed.append((number, fields))
    if result.errors:
        return result
    try:
        with transaction.atomic():
            for number, fields in parsed:
                try:
                    result.created.append(shipment_create(now=now, actor=user, **fields))
                except DomainError as exc:
                    for name, message in (exc.fields or {"": exc.message}).items():
                        column = FIELD_COLUMNS.get(name, name)
                        result.errors.append(RowError(number, column, str(message)))
                    raise
    except DomainError:
        result.created = []
    return result


class _RowChecker:
    """Parses one row into `shipment_create` arguments, with caches so that a file of
    thousands of rows costs a handful of queries per distinct exporter or item."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.exporters: dict[str, Exporter | None] = {}
        self.items: dict[tuple[str, str], ControlledItem | None] = {}
        self.consignees: dict[tuple[int, str], Consignee | None] = {}
        self.applications: dict[tuple[int, str], LicenseApplication | None] = {}
        self.seen: set[tuple[int, str]] = set()

    def check(self, number: int, row: dict[str, str]) -> tuple[dict[str, Any], list[RowError]]:
        errors: list[RowError] = []

        def error(column: str, message: str) -> None:
            errors.append(RowError(number, column, message))

        for column in COLUMNS:
            if column in REQUIRED and not row.get(column):
                error(column, _("Required."))
        fields: dict[str, Any] = {"reference": row.get("reference", "")}
        if len(fields["reference"]) > 60:
            error("reference", _("At most 60 characters."))

        exporter = self._exporter(row.get("exporter_registration_number", ""))
        if row.get("exporter_registration_number") and exporter is None:
            error("exporter_registration_number", _("No exporter you may see has this number."))
        fields["exporter"] = exporter

        item = self._item(row.get("authority", ""), row.get("item_code", ""))
        if row.get("item_code") and row.get("authority") and item is None:
            error(
                "item_code",
                _("Not on the control list of authority %(a)s.") % {"a": row.get("authority")},
            )
        fields["item"] = item

        for column in ("quantity", "value"):
            raw = row.get(column, "")
            if not raw:
                continue
            try:
                amount = Decimal(raw)
            except InvalidOperation:
                error(column, _("Not a number: %(v)s") % {"v": raw})
                continue
            if not amount.is_finite() or amount <= 0:
                error(column, _("Must be more than zero."))
            elif amount.as_tuple().exponent < (-3 if column == "quantity" else -2):  # type: ignore[operator]
                error(column, _("Too many decimal places."))
            fields[column] = amount

        currency = row.get("currency", "").upper()
        if currency and (len(currency) != 3 or not currency.isalpha()):
            error("currency", _("Use a three-letter currency code, e.g. USD."))
        fields["currency"] = currency
        destination = row.get("destination", "").upper()
        if destination and not is_country(destination):
            error(
                "destination",
                _("%(value)s is not an ISO 3166 country code; use one such as DE.")
                % {"value": destination},
            )
        fields["destination"] = destination

        raw_date = row.get("planned_ship_date", "")
        if raw_date:
            day, message = parse_date(raw_date)
            if day is None:
                error("planned_ship_date", message)
            else:
                fields["planned_ship_date"] = day

        if exporter is not None:
            if (exporter.pk, fields["reference"]) in self.seen:
                error("reference", _("Appears twice in this file."))
            self.seen.add((exporter.pk, fields["reference"]))
            if Shipment.objects.filter(exporter=exporter, reference=fields["reference"]).exists():
                error("reference", _("This exporter already has a shipment with this reference."))
            if row.get("consignee"):
                consignee = self._consignee(exporter, row["consignee"])
                if consignee is None:
                    error("consignee", _("This exporter has no consignee of this name."))
                fields["consignee"] = consignee
            if row.get("application_reference"):
                application = self._application(exporter, row["application_reference"])
                if application is None:
                    error(
                        "application_reference",
                        _("This exporter has no application with this reference."),
                    )
                fields["application"] = application
        return fields, errors

    def _exporter(self, number: str) -> Exporter | None:
        if number not in self.exporters:
            qs = scope(Exporter.objects.filter(registration_number=number), self.user, "id")
            self.exporters[number] = qs.first()
        return self.exporters[number]

    def _item(self, authority: str, code: str) -> ControlledItem | None:
        key = (authority.upper(), code)
        if key not in self.items:
            self.items[key] = ControlledItem.objects.filter(
                authority__code=key[0], code=code
            ).first()
        return self.items[key]

    def _consignee(self, exporter: Exporter, name: str) -> Consignee | None:
        key = (exporter.pk, name)
        if key not in self.consignees:
            self.consignees[key] = Consignee.objects.filter(exporter=exporter, name=name).first()
        return self.consignees[key]

    def _application(self, exporter: Exporter, reference: str) -> LicenseApplication | None:
        key = (exporter.pk, reference)
        if key not in self.applications:
            self.applications[key] = LicenseApplication.objects.filter(
                exporter=exporter, reference=reference
            ).first()
        return self.applications[key]
