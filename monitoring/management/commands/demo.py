"""Load a realistic sample spread over MOFCOM, BIS and ECJU with about two years of history.

- Exporters in China (rare earths in Ganzhou and Baotou, tungsten in Zhuzhou, gallium and
  germanium in Yunnan), in the US (advanced-computing chips and metal powders under the EAR)
  and in the UK (tungsten alloys under the UK control list), with consignees in a dozen
  countries.
- History: for each authority a few dozen applications filed over the last two years and
  decided (approved or rejected) in times around and beyond the authority's window, some after
  a pause, with shipments planned, shipped and delivered under them and old licenses expired.
- Today: applications in every state (overdue, due soon, at risk, waiting on our reply,
  referred, returned, licenses suspended, revoked, surrendered, under amendment), every kind
  of flag, a correction, a fast-track decision, a gallium measure (demo data) whose suspension
  ends before some planned shipments, and demo users of every role.

Everything is dated relative to today and written through the services as it happened: each
record is created (`now` = that moment) before its first move, each move is recorded when it is
made (`at` = `now`, in order), each shipment is planned before its ship date. The daily job
then runs once with today's `now`, so the flags and their e-mails say what is true today.
Running it twice changes nothing: the sample is loaded in one transaction, and only if it is
not there yet.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from licenses import roles, services
from licenses.authorities import controlled_item_create
from licenses.clock import calendar_for, end_of_day
from licenses.fasttrack import decision_log
from licenses.models import Authority, ControlledItem, Exporter, LicenseApplication, UserProfile
from licenses.services.forecasts import forecasts_deferred
from licenses.services.measures import measure_create
from monitoring.scan.daily import DailyResult, run_daily
from shipments import services as shipping
from shipments.models import Consignee, Shipment
from shipments.services import shipment_create

DEMO_MARK = "91360700-DEMO-GZRE"  # the first exporter's registration number

USERS = [
    # username, password, role, staff, limited to (exporter registration numbers)
    ("admin", "admin-demo-2026", roles.ADMINISTRATOR, True, None),
    ("manager", "manager-demo-2026", roles.MANAGER, True, None),
    ("officer", "officer-demo-2026", roles.OFFICER, True, None),
    ("viewer", "viewer-demo-2026", roles.VIEWER, False, None),
    ("ganzhou", "ganzhou-demo-2026", roles.OFFICER, False, [DEMO_MARK]),
]

# key: (name, registration number, country, address, contact, reference prefix)
EXPORTERS: dict[str, tuple[str, str, str, str, str, str]] = {
    "gz": (
        "Ganzhou Rare Earth Trading Co., Ltd.",
        DEMO_MARK,
        "CN",
        "Zhanggong District, Ganzhou, Jiangxi",
        "compliance@ganzhou-re.example.com",
        "GZR",
    ),
    "bt": (
        "Baotou Magnetics Export Co., Ltd.",
        "91150200-DEMO-BTMX",
        "CN",
        "Kundulun District, Baotou, Inner Mongolia",
        "export.control@baotou-mag.example.com",
        "BTM",
    ),
    "zz": (
        "Zhuzhou Tungsten Materials Co., Ltd.",
        "91430200-DEMO-ZZTM",
        "CN",
        "Hetang District, Zhuzhou, Hunan",
        "trade@zz-tungsten.example.com",
        "ZZT",
    ),
    "yn": (
        "Yunnan Gallium Metals Co., Ltd.",
        "91530100-DEMO-YNGA",
        "CN",
        "Kunming, Yunnan",
        "licensing@yn-gallium.example.com",
        "YNG",
    ),
    "lc": (
        "Lincang Germanium Materials Co., Ltd.",
        "91530900-DEMO-LCGE",
        "CN",
        "Linxiang District, Lincang, Yunnan",
        "export@lc-germanium.example.com",
        "LCG",
    ),
    "sh": (
        "Sheffield Tungsten Alloys Ltd",
        "GB-DEMO-04417781",
        "GB",
        "Attercliffe, Sheffield S9",
        "export.licensing@sheffield-wa.example.com",
        "STA",
    ),
    "ka": (
        "Keystone Advanced Materials Inc.",
        "US-DEMO-EIN-25-3318846",
        "US",
        "Strip District, Pittsburgh, PA 15222",
        "trade.compliance@keystone-am.example.com",
        "KAM",
    ),
    "sc": (
        "Sierra Compute Systems Inc.",
        "US-DEMO-EIN-94-2271530",
        "US",
        "North First Street, San Jose, CA 95134",
        "export.control@sierra-compute.example.com",
        "SCS",
    ),
}

# key: exporter key, then (name, country, end use); a consignee is named "<exporter>.<n>".
CONSIGNEES: dict[str, list[tuple[str, str, str]]] = {
    "gz": [
        ("Rheinland Magnettechnik GmbH", "DE", "Sintered NdFeB magnets for traction motors"),
        ("Kansai Precision Motors K.K.", "JP", "Servo motors for industrial robots"),
        ("Great Lakes Motion Inc.", "US", "Wind-turbine generator magnets"),
    ],
    "bt": [
        ("Lyon Aimants SAS", "FR", "Magnet assemblies for e-bike hub motors"),
        ("Hanbit Electronics Co.", "KR", "Voice-coil actuators"),
    ],
    "zz": [
        ("Sheffield Hardmetals Ltd", "GB", "Cemented-carbide cutting tools"),
        ("Stuttgart Werkzeugbau AG", "DE", "Tungsten heavy-alloy counterweights"),
        ("Osaka Carbide Tools K.K.", "JP", "Carbide drills for printed-circuit boards"),
    ],
    "yn": [
        ("Eindhoven Photonics B.V.", "NL", "GaN and Ga2O3 power semiconductors"),
        ("Hsinchu Epitaxy Corp.", "TW", "Compound-semiconductor wafers"),
        ("Sendai Optoelectronics K.K.", "JP", "GaAs laser diodes"),
        ("Arizona RF Devices Inc.", "US", "GaN radio-frequency amplifiers"),
    ],
    "lc": [
        ("Olen Infrared Optics N.V.", "BE", "Germanium lenses for thermal cameras"),
        ("Nagano Infrared K.K.", "JP", "Germanium windows for night-vision modules"),
        ("Rhone Fibre Optique SAS", "FR", "Germanium dioxide for optical-fibre preforms"),
    ],
    "sh": [
        ("Suzhou Precision Tooling Co., Ltd.", "CN", "Tungsten heavy-alloy tooling inserts"),
        ("Chennai Precision Alloys Pvt Ltd", "IN", "Radiation shielding for medical linacs"),
        ("Ankara Hassas Dokum A.S.", "TR", "Balance weights for aircraft control surfaces"),
        ("Sao Jose Aeroespacial Ltda", "BR", "Counterweights for helicopter rotors"),
    ],
    "ka": [
        ("Pune Aerospace Materials Pvt Ltd", "IN", "Additive-manufacturing feedstock"),
        ("Shanghai Powder Metallurgy Co., Ltd.", "CN", "Sintered zirconium parts"),
        ("Abu Dhabi Advanced Alloys LLC", "AE", "Thermal-spray coatings"),
    ],
    "sc": [
        ("Gulf AI Compute LLC", "AE", "Data-centre servers for language-model training"),
        ("Riyadh Data Systems Co.", "SA", "Cloud inference cluster"),
        ("Kuala Lumpur Cloud Sdn Bhd", "MY", "Colocation GPU servers"),
        ("Bengaluru HPC Pvt Ltd", "IN", "University supercomputer"),
        ("Shenzhen Cloud Intelligence Co., Ltd.", "CN", "Cloud computing services"),
    ],
}

_NO23 = (
    "MOFCOM/GAC 2023 No. 23, {what} item {n}. The code is the customs commodity number the "
    "announcement cites; the item's code in the unified dual-use list is not published."
)
# The items the demo names beyond the seeded MOFCOM list (codes real and published; where a
# list code is not published, the description says which code stands in for it).
DEMO_ITEMS: dict[str, list[tuple[str, str, str, str]]] = {
    "MOFCOM": [
        (
            "2850001901",
            "Gallium nitride (chips, powders, scrap). " + _NO23.format(what="gallium", n=2),
            "gallium",
            "kg",
        ),
        (
            "2825909001",
            "Gallium oxide (crystals, wafers, epitaxial wafers, powders). "
            + _NO23.format(what="gallium", n=3),
            "gallium",
            "kg",
        ),
        (
            "2853909026",
            "Gallium arsenide (crystals, wafers, epitaxial wafers, powders). "
            + _NO23.format(what="gallium", n=5),
            "gallium",
            "kg",
        ),
        (
            "8112921010",
            "Germanium metal (crystals, powders, scrap). " + _NO23.format(what="germanium", n=1),
            "germanium",
            "kg",
        ),
        (
            "2825600002",
            "Germanium dioxide. " + _NO23.format(what="germanium", n=5),
            "germanium",
            "kg",
        ),
    ],
    "BIS": [
        (
            "3A090.a",
            "Integrated circuits with a total processing performance of 4800 or more "
            "(advanced computing), EAR Commerce Control List",
            "integrated circuits",
            "pcs",
        ),
        (
            "4A090.a",
            "Computers and electronic assemblies containing integrated circuits of 3A090.a, "
            "EAR Commerce Control List",
            "computers",
            "pcs",
        ),
        (
            "1C011.a",
            "Metal powders of zirconium, magnesium and their alloys (99 % pure or more, "
            "particles under 60 µm), EAR Commerce Control List",
            "zirconium",
            "kg",
        ),
        (
            "1C226",
            "Tungsten, tungsten carbide and alloys of more than 90 % tungsten in hollow "
            "cylindrical forms of more than 20 kg, EAR Commerce Control List",
            "tungsten",
            "kg",
        ),
    ],
    "ECJU": [
        (
            "1C226",
            "Tungsten, tungsten carbide and alloys of more than 90 % tungsten in hollow "
            "cylindrical forms of more than 20 kg, UK Strategic Export Control List (dual-use)",
            "tungsten",
            "kg",
        ),
        (
            "1C117.c",
            "Tungsten materials in solid form for missile components, UK Strategic Export "
            "Control List (dual-use)",
            "tungsten",
            "kg",
        ),
    ],
}

# The history: per authority, what its exporters file (exporter, item, consignees, quantity
# range, price per unit) and how long decisions take (working or calendar days, as the
# authority counts; the windows are MOFCOM 45 working days from acceptance, BIS 90 calendar
# days and ECJU 20 working days from submission).
TRADE: dict[str, list[tuple[str, str, list[int], tuple[int, int], int]]] = {
    "MOFCOM": [
        ("gz", "1C902", [0, 1, 2], (100, 400), 320),
        ("gz", "1C904", [0, 1], (20, 80), 1400),
        ("bt", "1C903", [0, 1], (100, 500), 210),
        ("bt", "1C905", [0, 1], (20, 60), 420),
        ("zz", "1C117.d", [0, 1, 2], (500, 2000), 45),
        ("zz", "1C117.c", [0, 1, 2], (200, 800), 60),
        ("yn", "2850001901", [0, 1, 3], (20, 120), 1600),
        ("yn", "2853909026", [1, 2, 3], (30, 150), 900),
        ("lc", "8112921010", [0, 1], (100, 600), 1800),
        ("lc", "2825600002", [2, 1], (200, 900), 1300),
    ],
    "BIS": [
        ("sc", "3A090.a", [0, 1, 2, 3, 4], (200, 2000), 25000),
        ("sc", "4A090.a", [0, 1, 2, 3], (8, 64), 250000),
        ("ka", "1C011.a", [0, 1, 2], (200, 1500), 120),
        ("ka", "1C226", [0, 1, 2], (40, 200), 160),
    ],
    "ECJU": [
        ("sh", "1C226", [0, 1, 2, 3], (40, 300), 140),
        ("sh", "1C117.c", [1, 2, 3], (50, 400), 95),
    ],
}
DECISION_DAYS = {
    "MOFCOM": [22, 27, 31, 34, 38, 40, 42, 44, 45, 47, 51, 56, 63, 72, 86],
    "BIS": [24, 33, 41, 48, 55, 62, 70, 77, 84, 89, 96, 108, 121, 139],
    "ECJU": [8, 11, 13, 15, 17, 18, 19, 20, 22, 26, 33, 41, 52, 64],
}
HISTORY = {"MOFCOM": 21, "BIS": 24, "ECJU": 24}
WINDOWS = {"MOFCOM": 45, "BIS": 90, "ECJU": 20}
CURRENCY = {"MOFCOM": "USD", "BIS": "USD", "ECJU": "GBP"}
# License validity (DOMAIN.md): MOFCOM individual ≤ 1 year, BIS generally 4 years
# (unconfirmed), ECJU SIEL 2 years.
VALIDITY_DAYS = {"MOFCOM": 365, "BIS": 4 * 365, "ECJU": 2 * 365}
REJECTIONS = {
    "MOFCOM": [
        "End user could not be verified.",
        "End-use statement inconsistent with the contract.",
        "Importer named on the watch list during review.",
    ],
    "BIS": [
        "Denied: presumption of denial for this destination (15 CFR 742.6).",
        "Denied: end user's involvement in a prohibited end use could not be ruled out.",
    ],
    "ECJU": [
        "Refused: risk of diversion to an undesirable end user (Criterion 7).",
        "Refused: end-user undertaking incomplete.",
    ],
}
Moment = dt.datetime
US_BAN = "Denied in principle: MOFCOM 2024 No. 46, clause 2 (gallium and germanium to the US)."


class Command(BaseCommand):
    help = "Load the demo sample (idempotent). Never runs under production settings."

    def handle(self, *args: Any, **options: Any) -> None:
        if not getattr(settings, "DEMO", False):
            raise CommandError("The demo is not loaded under these settings (DEMO is off).")
        if Exporter.objects.filter(registration_number=DEMO_MARK).exists():
            self.stdout.write("Demo data already loaded; nothing changed.")
        else:
            with transaction.atomic():
                daily = Loader(now=timezone.now()).load()
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
            self.stdout.write(f"The daily job, as of now: {daily.summary()}")
        self.stdout.write("Demo sign-ins (username / password):")
        for username, password, role, _staff, limited in USERS:
            scope = " (limited to Ganzhou Rare Earth)" if limited else ""
            self.stdout.write(f"  {username:<9} {password:<20} {role}{scope}")


class Loader:
    """Writes the sample through the services, each record at the moment it happened."""

    def __init__(self, *, now: dt.datetime) -> None:
        self.now = now
        self.authorities = {a.code: a for a in Authority.objects.all()}
        self.calendars = {code: calendar_for(a) for code, a in self.authorities.items()}
        self.mofcom = self.authorities["MOFCOM"]
        self.today = self.local_day(now, "MOFCOM")
        self.officer: Any = None
        self.seq = 0
        self.case_seq = 0
        self.random = random.Random(20261204)
        self.items: dict[tuple[str, str], ControlledItem] = {}
        self.exporters: dict[str, Exporter] = {}
        self.consignees: dict[str, list[Consignee]] = {}

    # -- time ------------------------------------------------------------------------------

    def local_day(self, moment: dt.datetime, code: str) -> dt.date:
        return moment.astimezone(self.authorities[code].tz).date()

    def at(
        self, day: dt.date, code: str = "MOFCOM", hour: int = 10, minute: int = 0
    ) -> dt.datetime:
        """That day at that hour in the authority's zone; never later than a minute ago."""
        moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.authorities[code].tz)
        return min(moment, self.now - dt.timedelta(minutes=1))

    def in_days(self, n: int) -> dt.date:
        return self.today + dt.timedelta(days=n)

    def days_ago(self, n: int, code: str = "MOFCOM", hour: int = 10) -> dt.datetime:
        return self.at(self.local_day(self.now, code) - dt.timedelta(days=n), code, hour)

    def working_days_ago(self, n: int, code: str = "MOFCOM", hour: int = 10) -> dt.datetime:
        calendar = self.calendars[code]
        day = calendar.subtract_working_days(self.local_day(self.now, code), n)
        return self.at(day, code, hour)

    def working_day(self, day: dt.date, code: str) -> dt.date:
        """The first working day of the authority on or after `day`."""
        calendar = self.calendars[code]
        while not calendar.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def later(self, day: dt.date, n: int, code: str, unit: str = "working") -> dt.date:
        if unit == "working":
            return self.calendars[code].add_working_days(day, n)
        return self.working_day(day + dt.timedelta(days=n), code)

    # -- records, each created at its own moment ------------------------------------------

    def item(self, code: str, authority: str = "MOFCOM") -> ControlledItem:
        key = (authority, code)
        if key not in self.items:
            self.items[key] = ControlledItem.objects.get(
                authority=self.authorities[authority], code=code
            )
        return self.items[key]

    def consignee(self, ref: str) -> Consignee:
        exporter, n = ref.split(".")
        return self.consignees[exporter][int(n)]

    def application(
        self,
        exporter: str,
        *,
        created: dt.datetime,
        item_codes: list[str],
        destination: str,
        authority: str = "MOFCOM",
        license_type: str = "individual",
        quantity: Any = "500",
        value: Any = "150000",
        currency: str | None = None,
    ) -> LicenseApplication:
        self.seq += 1
        year = self.local_day(created, authority).year
        return services.application_create(
            now=created,
            actor=self.officer,
            items=[self.item(code, authority) for code in item_codes],
            exporter=self.exporters[exporter],
            authority=self.authorities[authority],
            license_type=license_type,
            destination=destination,
            reference=f"{EXPORTERS[exporter][5]}-{year}-{self.seq:03d}",
            quantity=Decimal(quantity),
            value=Decimal(value),
            currency=currency or CURRENCY[authority],
        )

    def case_number(self, when: dt.datetime) -> str:
        """A MOFCOM case number, as its acceptance notice gives it."""
        self.case_seq += 1
        return f"MOFCOM-DU-{self.local_day(when, 'MOFCOM').year}-{10412 + 373 * self.case_seq}"

    def move(self, app: LicenseApplication, name: str, when: dt.datetime, **kwargs: Any) -> None:
        """A move recorded as it is made (`at` = `now`). MOFCOM's acceptance carries the case
        number of its acceptance notice."""
        if name == "accept" and app.authority_id == self.mofcom.pk:
            kwargs.setdefault("authority_reference", self.case_number(when))
        getattr(services, f"application_{name}")(
            application=app, at=when, now=when, actor=self.officer, **kwargs
        )

    def shipment(
        self,
        app: LicenseApplication | None,
        consignee: Consignee,
        *,
        ship_on: dt.date,
        created: dt.datetime | None = None,
        quantity: Any = "100",
        value: Any = "30000",
        item_code: str | None = None,
    ) -> Shipment:
        """A shipment planned (at `created`, today when omitted) before its ship date."""
        created = created or self.now
        assert created.date() < ship_on, "a shipment is planned before its ship date"
        self.seq += 1
        item = self.item(item_code) if item_code else app.items.first()  # type: ignore[union-attr]
        return shipment_create(
            now=created,
            actor=self.officer,
            exporter=consignee.exporter,
            reference=f"SHP-{self.seq:04d}",
            item=item,
            quantity=Decimal(quantity),
            value=Decimal(value),
            currency=app.currency if app else "USD",
            destination=consignee.country,
            consignee=consignee,
            planned_ship_date=ship_on,
            application=app,
        )

    def ship_move(self, shipment: Shipment, name: str, when: dt.datetime, **kw: Any) -> None:
        shipment.refresh_from_db()  # it followed its application meanwhile
        getattr(shipping, f"shipment_{name}")(
            shipment=shipment, at=when, now=when, actor=self.officer, **kw
        )

    # -- the sample --------------------------------------------------------------------------

    def load(self) -> DailyResult:
        start = self.now - dt.timedelta(days=760)
        # Two years of moves, each recorded as made: the forecasts are estimated once, as of
        # today, by the daily job below rather than after every historical move.
        with forecasts_deferred():
            self.reference_data(start)
            self.users()
            self.gallium_measure()
            for code in ("MOFCOM", "BIS", "ECJU"):
                self.history(code)
            self.today_mofcom()
            self.today_bis()
            self.today_ecju()
            self.after_approval()
            # A fast-track decision in force: the June 2025 "green channel" pattern, for
            # Germany.
            self.decision()
        # The daily job, once, as of today: licenses whose validity ended expire, forecasts
        # are estimated, and the flags (and their e-mails) are those true today.
        return run_daily(now=self.now)

    def reference_data(self, start: dt.datetime) -> None:
        for authority, rows in DEMO_ITEMS.items():
            for code, description, material, unit in rows:
                existing = ControlledItem.objects.filter(
                    authority=self.authorities[authority], code=code
                ).first()
                self.items[(authority, code)] = existing or controlled_item_create(
                    now=start,
                    actor=None,
                    authority=self.authorities[authority],
                    code=code,
                    description=description,
                    material=material,
                    unit=unit,
                )
        for key, (name, reg, country, address, contact, _prefix) in EXPORTERS.items():
            self.exporters[key] = services.exporter_create(
                now=start,
                actor=None,
                name=name,
                registration_number=reg,
                country=country,
                address=address,
                contact_emails=[contact],
            )
        for key, consignees in CONSIGNEES.items():
            self.consignees[key] = [
                shipping.consignee_create(
                    now=start,
                    actor=None,
                    exporter=self.exporters[key],
                    name=name,
                    country=country,
                    end_use=end_use,
                )
                for name, country, end_use in consignees
            ]

    def history(self, code: str) -> None:
        """Applications filed over the last two years and decided, in times around and beyond
        the authority's window; some paused; shipments under most licenses."""
        rnd, count = self.random, HISTORY[code]
        unit = "calendar" if code == "BIS" else "working"
        today = self.local_day(self.now, code)
        for n in range(count):
            # Filed evenly over about 24 months, the latest some four months ago.
            filed = today - dt.timedelta(days=720 - n * (600 // count) - rnd.randint(0, 9))
            exporter, item_code, consignees, (q_lo, q_hi), price = self.trade(code, filed)
            consignee = self.consignees[exporter][rnd.choice(consignees)]
            quantity = rnd.randint(q_lo, q_hi)
            created = self.at(
                self.working_day(filed, code), code, hour=9, minute=rnd.randint(0, 50)
            )
            submitted = self.later(created.date(), rnd.randint(1, 3), code)
            clock_from = submitted
            accepted = None
            if code == "MOFCOM":
                accepted = self.later(submitted, rnd.randint(3, 11), code)
                clock_from = accepted
            pause = None
            if rnd.random() < 0.2:
                asked = self.later(clock_from, rnd.randint(5, 15), code, unit)
                pause = (asked, self.later(asked, rnd.randint(4, 12), code, unit))
            days = rnd.choice(DECISION_DAYS[code])
            decided = self.later(clock_from, days, code, unit)
            if pause:
                decided = self.later(decided, (pause[1] - pause[0]).days, code, "calendar")
                decided = max(decided, self.later(pause[1], 2, code))
            if decided >= today - dt.timedelta(days=3):
                continue  # still pending: the today sections show those
            # MOFCOM 2024 No. 46 clause 2, until its suspension on 9 November 2025.
            banned = (
                exporter in ("yn", "lc")
                and consignee.country == "US"
                and dt.date(2024, 12, 3) <= decided < dt.date(2025, 11, 9)
            )
            approve = not banned and rnd.random() < (0.72 if code == "MOFCOM" else 0.85)
            app = self.application(
                exporter,
                created=created,
                item_codes=[item_code],
                destination=consignee.country,
                authority=code,
                quantity=quantity,
                value=quantity * price,
            )
            self.move(app, "submit", self.at(submitted, code, 11))
            if accepted:
                self.move(app, "accept", self.at(accepted, code, 15))
            planned = None
            if approve and rnd.random() < 0.45:
                # Planned once filed, to ship some weeks after the decision and after the
                # window's end (so that it never was at risk).
                window_end = self.later(clock_from, WINDOWS[code], code, unit)
                if pause:
                    window_end += pause[1] - pause[0]
                ship_on = self.later(max(decided, window_end), rnd.randint(5, 25), code, "calendar")
                planned = self.shipment(
                    app,
                    consignee,
                    ship_on=ship_on,
                    created=self.at(submitted, code, 16),
                    quantity=quantity,
                    value=quantity * price,
                )
            if pause:
                reason = "expert_review" if code == "MOFCOM" and rnd.random() < 0.5 else None
                self.move(
                    app,
                    "request_info",
                    self.at(pause[0], code, 14),
                    reason=reason or "information",
                    note="Technical specification sent for expert review."
                    if reason
                    else "End-user undertaking and contract copy requested.",
                )
                self.move(app, "provide_info", self.at(pause[1], code, 10))
            decided_at = self.at(decided, code, 16)
            if approve:
                valid_until = decided + dt.timedelta(days=VALIDITY_DAYS[code])
                self.move(
                    app,
                    "approve",
                    decided_at,
                    license_number=self.license_number(code, decided),
                    valid_until=valid_until,
                )
                if planned is not None:
                    self.shipped_history(planned, code)
                if valid_until < today:
                    # The daily job that night.
                    ended = end_of_day(valid_until, self.authorities[code].tz)
                    services.application_expire(
                        application=app, at=ended, now=ended + dt.timedelta(hours=2)
                    )
            else:
                self.move(
                    app,
                    "reject",
                    decided_at,
                    reason=US_BAN if banned else rnd.choice(REJECTIONS[code]),
                )

    def trade(self, code: str, filed: dt.date) -> tuple[str, str, list[int], tuple[int, int], int]:
        """What is filed then: before April 2025 MOFCOM licensed gallium and germanium of
        these exporters, not yet rare earths (MOFCOM/GAC 2025 No. 18) or tungsten (No. 10)."""
        rows = TRADE[code]
        if code == "MOFCOM" and filed < dt.date(2025, 4, 15):
            rows = [row for row in rows if row[0] in ("yn", "lc")]
        return self.random.choice(rows)

    def license_number(self, code: str, day: dt.date) -> str:
        self.seq += 1
        return {
            "MOFCOM": f"DU-{day.year}-{self.seq:05d}",
            "BIS": f"D{1180000 + self.seq * 17}",
            "ECJU": f"GBSIEL/{day.year}/{self.seq:07d}/P",
        }[code]

    def shipped_history(self, shipment: Shipment, code: str) -> None:
        """A shipment under a license: shipped on its date, delivered weeks later (the goods
        of the latest licenses are still at sea, or not shipped yet)."""
        shipment.refresh_from_db()
        ship_on = shipment.planned_ship_date
        if ship_on >= self.local_day(self.now, code):
            return
        self.ship_move(shipment, "ship", self.at(ship_on, code, 9))
        arrival = ship_on + dt.timedelta(days=self.random.randint(6, 34))
        if arrival < self.local_day(self.now, code):
            self.ship_move(shipment, "deliver", self.at(arrival, code, 14))

    # -- today -----------------------------------------------------------------------------

    def gallium_measure(self) -> None:
        """Gallium oxide under a measure suspended until 20 days from now: a shipment before
        the suspension ends needs no license; one after it does (file by, control change)."""
        measure_create(
            authority=self.mofcom,
            reference="Demo: MOFCOM/GAC gallium measure",
            title="Demo: export control of gallium items, suspended after trade talks",
            kind="control",
            announced_on=self.today - dt.timedelta(days=420),
            effective_from=self.today - dt.timedelta(days=400),
            suspensions=[
                {
                    "from": (self.today - dt.timedelta(days=60)).isoformat(),
                    "until": (self.today + dt.timedelta(days=20)).isoformat(),
                    "reference": "Demo: suspension announcement",
                }
            ],
            items=[self.item("2825909001")],
            source="Demo data (pattern of MOFCOM/GAC 2023 No. 23 and MOFCOM 2025 No. 70)",
            note="Demo measure: not an announcement of the authority.",
            actor=self.officer,
            now=self.days_ago(30),
        )

    def today_mofcom(self) -> None:
        c = self.consignee
        yn_nl = c("yn.0")
        # Gallium oxide without an application, before and after the suspension ends.
        self.shipment(None, yn_nl, ship_on=self.in_days(10), item_code="2825909001")
        self.shipment(None, yn_nl, ship_on=self.in_days(45), item_code="2825909001")

        # Drafts: one with a shipment that should already have been filed (file_by).
        draft = self.application(
            "gz", created=self.days_ago(6), item_codes=["1C902"], destination="DE"
        )
        self.shipment(
            draft,
            c("gz.0"),
            ship_on=self.in_days(40),
            quantity="250",
            value="75000",
            created=self.days_ago(5),
        )
        self.shipment(None, c("bt.1"), ship_on=self.in_days(30), item_code="1C903")
        ga_draft = self.application(
            "yn",
            created=self.days_ago(2),
            item_codes=["2850001901"],
            destination="NL",
            quantity="80",
            value="128000",
        )
        self.shipment(
            ga_draft,
            yn_nl,
            ship_on=self.in_days(90),
            quantity="80",
            value="128000",
        )

        # Submitted, awaiting acceptance.
        sub = self.application(
            "bt",
            created=self.working_days_ago(5, hour=9),
            item_codes=["1C903"],
            destination="FR",
            currency="EUR",
            value="60000",
        )
        self.move(sub, "submit", self.working_days_ago(3))
        self.shipment(sub, c("bt.0"), ship_on=self.in_days(21), value="20000")

        # Accepted 60 working days ago: overdue; its shipment is at risk.
        late = self.application(
            "gz",
            created=self.working_days_ago(68, hour=9),
            item_codes=["1C902", "1C904"],
            destination="JP",
            quantity="300",
            value="420000",
        )
        self.move(late, "submit", self.working_days_ago(66))
        self.move(late, "accept", self.working_days_ago(60))
        self.shipment(
            late,
            c("gz.1"),
            ship_on=self.in_days(10),
            quantity="300",
            value="420000",
            item_code="1C902",
            created=self.working_days_ago(59),
        )

        # Accepted, due in three working days (due soon); shipment planned before its due date.
        soon = self.application(
            "zz",
            created=self.working_days_ago(52, hour=9),
            item_codes=["1C117.d"],
            destination="GB",
            value="95000",
        )
        self.move(soon, "submit", self.working_days_ago(50))
        self.move(soon, "accept", self.working_days_ago(42))
        self.shipment(
            soon,
            c("zz.0"),
            ship_on=self.in_days(2),
            quantity="500",
            value="95000",
            created=self.working_days_ago(41),
        )

        # Accepted recently, with a correction of the acceptance date.
        fresh = self.application(
            "zz",
            created=self.working_days_ago(14, hour=9),
            item_codes=["1C117.c"],
            destination="DE",
            value="60000",
        )
        self.move(fresh, "submit", self.working_days_ago(12))
        self.move(fresh, "accept", self.working_days_ago(4))
        corrected = self.working_days_ago(3, hour=9)
        services.application_correct(
            application=fresh,
            at=self.working_days_ago(5),
            now=corrected,
            actor=self.officer,
            note="MOFCOM's acceptance notice is dated a day earlier than recorded.",
        )
        self.shipment(
            fresh,
            c("zz.1"),
            ship_on=self.in_days(75),
            quantity="200",
            value="60000",
        )

        # Information requested (the clock is stopped).
        info = self.application(
            "gz",
            created=self.working_days_ago(32, hour=9),
            item_codes=["1C902"],
            destination="US",
            value="210000",
        )
        self.move(info, "submit", self.working_days_ago(30))
        self.move(info, "accept", self.working_days_ago(25))
        self.move(
            info,
            "request_info",
            self.working_days_ago(6),
            note="End-use statement and photos of the production line requested.",
        )
        self.shipment(
            info,
            c("gz.2"),
            ship_on=self.in_days(45),
            quantity="150",
            value="210000",
        )

        # MOFCOM sent a file for expert review (the clock does not count those days).
        review = self.application(
            "bt",
            created=self.working_days_ago(30, hour=9),
            item_codes=["1C903"],
            destination="KR",
            value="64000",
        )
        self.move(review, "submit", self.working_days_ago(28))
        self.move(review, "accept", self.working_days_ago(24))
        self.move(
            review,
            "request_info",
            self.working_days_ago(4),
            reason="expert_review",
            note="Technical description sent to an expert body for review.",
        )
        # Referred: the end user is on the watch list, so no time limit applies (Art. 26).
        referred = self.application(
            "gz",
            created=self.working_days_ago(47, hour=9),
            item_codes=["1C903"],
            destination="US",
            value="72000",
        )
        self.move(referred, "submit", self.working_days_ago(45))
        self.move(referred, "accept", self.working_days_ago(40))
        self.move(
            referred,
            "refer",
            self.working_days_ago(20),
            reason="watch_list",
            note="The end user was placed on the watch list.",
        )
        self.shipment(
            referred,
            c("gz.2"),
            ship_on=self.in_days(60),
            quantity="90",
            value="72000",
        )
        # Returned without action, to be filed again.
        returned = self.application(
            "zz",
            created=self.working_days_ago(24, hour=9),
            item_codes=["1C117.c"],
            destination="GB",
            value="41000",
        )
        self.move(returned, "submit", self.working_days_ago(22))
        self.move(returned, "accept", self.working_days_ago(18))
        self.move(
            returned,
            "return",
            self.working_days_ago(2),
            note="Returned: the contract copy was unsigned.",
        )
        self.shipment(
            returned,
            c("zz.0"),
            ship_on=self.in_days(50),
            quantity="150",
            value="41000",
        )

        # Approved: its shipment delivered.
        done = self.application(
            "bt",
            created=self.working_days_ago(72, hour=9),
            item_codes=["1C903"],
            destination="KR",
            value="50000",
        )
        self.move(done, "submit", self.working_days_ago(70))
        self.move(done, "accept", self.working_days_ago(65))
        delivered = self.shipment(
            done,
            c("bt.1"),
            ship_on=self.today - dt.timedelta(days=25),
            value="50000",
            created=self.working_days_ago(64),
        )
        self.move(
            done,
            "approve",
            self.working_days_ago(30),
            license_number="DU-2026-ZH-00781",
            valid_until=self.today + dt.timedelta(days=335),
        )
        delivered.refresh_from_db()
        self.ship_move(delivered, "ship", self.days_ago(25))
        self.ship_move(delivered, "deliver", self.working_days_ago(8))

        # A general license with drawdown, expiring in 20 days: one shipment shipped, one held,
        # one cancelled, one planned after the license ends (license_expires).
        general = self.application(
            "zz",
            created=self.days_ago(402, hour=9),
            item_codes=["1C117.d"],
            destination="DE",
            license_type="general",
            quantity="5000",
            value="900000",
        )
        self.move(general, "submit", self.days_ago(400))
        self.move(general, "accept", self.days_ago(390))
        self.move(
            general,
            "approve",
            self.days_ago(340),
            license_number="DU-2025-HN-00212",
            valid_until=self.today + dt.timedelta(days=20),
            approved_quantity=Decimal("5000"),
            approved_value=Decimal("900000"),
        )
        first, second, third, _fourth = (
            self.shipment(
                general,
                c("zz.1"),
                ship_on=self.in_days(days),
                quantity="1000",
                value="180000",
                created=self.days_ago(60),
            )
            for days in (-3, 12, 25, 40)
        )
        for shipment in (first, second, third):
            shipment.refresh_from_db()
        self.ship_move(first, "ship", self.days_ago(3))
        self.ship_move(second, "hold", self.days_ago(2), note="Customer asked to delay delivery.")
        self.ship_move(
            third, "cancel", self.days_ago(1), note="Order cancelled; its drawdown is released."
        )

        # An exhausted general license.
        full = self.application(
            "yn",
            created=self.days_ago(203, hour=9),
            item_codes=["2853909026"],
            destination="TW",
            license_type="general",
            quantity="40",
            value="64000",
        )
        self.move(full, "submit", self.days_ago(200))
        self.move(full, "accept", self.days_ago(190))
        self.move(
            full,
            "approve",
            self.days_ago(150),
            license_number="DU-2026-YN-00057",
            valid_until=self.today + dt.timedelta(days=200),
            approved_quantity=Decimal("40"),
            approved_value=Decimal("64000"),
        )
        self.shipment(
            full,
            c("yn.1"),
            ship_on=self.in_days(12),
            quantity="40",
            value="64000",
            created=self.days_ago(20),
        )

        # Withdrawn.
        withdrawn = self.application(
            "yn", created=self.days_ago(93, hour=9), item_codes=["2850001901"], destination="NL"
        )
        self.move(withdrawn, "submit", self.days_ago(90))
        self.move(withdrawn, "withdraw", self.days_ago(80), note="Customer cancelled the contract.")

    def today_bis(self) -> None:
        c = self.consignee
        today = self.local_day(self.now, "BIS")
        # Registered 40 days ago, due in 50: its shipment in 30 days is at risk.
        uae = self.application(
            "sc",
            created=self.days_ago(42, "BIS", hour=9),
            item_codes=["3A090.a"],
            destination="AE",
            authority="BIS",
            quantity="1200",
            value="30000000",
        )
        self.move(uae, "submit", self.days_ago(40, "BIS"))
        self.shipment(
            uae,
            c("sc.0"),
            ship_on=today + dt.timedelta(days=30),
            quantity="1200",
            value="30000000",
            created=self.days_ago(39, "BIS"),
        )
        # Registered 100 days ago: past the 90 days of 15 CFR 750.4.
        india = self.application(
            "ka",
            created=self.days_ago(103, "BIS", hour=9),
            item_codes=["1C011.a"],
            destination="IN",
            authority="BIS",
            quantity="800",
            value="96000",
        )
        self.move(india, "submit", self.days_ago(100, "BIS"))
        self.shipment(
            india,
            c("ka.0"),
            ship_on=today + dt.timedelta(days=20),
            quantity="800",
            value="96000",
            created=self.days_ago(99, "BIS"),
        )
        # On hold without action: BIS asked for information, 10 calendar days to answer.
        hold = self.application(
            "ka",
            created=self.days_ago(30, "BIS", hour=9),
            item_codes=["1C226"],
            destination="AE",
            authority="BIS",
            quantity="120",
            value="19200",
        )
        self.move(hold, "submit", self.days_ago(28, "BIS"))
        self.move(
            hold,
            "request_info",
            self.days_ago(7, "BIS"),
            note="Hold without action: end-user statement for the thermal-spray plant requested.",
        )
        # Returned without action, then resubmitted: the 90 days start again.
        rwa = self.application(
            "sc",
            created=self.days_ago(36, "BIS", hour=9),
            item_codes=["4A090.a"],
            destination="SA",
            authority="BIS",
            quantity="16",
            value="4000000",
        )
        self.move(rwa, "submit", self.days_ago(35, "BIS"))
        self.move(rwa, "return", self.days_ago(14, "BIS"), note="RWA: item classification missing.")
        self.move(rwa, "resubmit", self.days_ago(6, "BIS"), note="Resubmitted with the CCATS.")
        # Approved: its shipment is cleared to go.
        kl = self.application(
            "sc",
            created=self.days_ago(80, "BIS", hour=9),
            item_codes=["3A090.a"],
            destination="MY",
            authority="BIS",
            quantity="640",
            value="16000000",
        )
        self.move(kl, "submit", self.days_ago(78, "BIS"))
        self.shipment(
            kl,
            c("sc.2"),
            ship_on=today + dt.timedelta(days=12),
            quantity="640",
            value="16000000",
            created=self.days_ago(77, "BIS"),
        )
        self.move(
            kl,
            "approve",
            self.days_ago(16, "BIS"),
            license_number="D1197421",
            valid_until=today + dt.timedelta(days=4 * 365 - 16),
        )

    def today_ecju(self) -> None:
        c = self.consignee
        today = self.local_day(self.now, "ECJU")
        # ECJU asked for information 17 working days ago; the applicant has 20 (reply due).
        uk = self.application(
            "sh",
            created=self.working_days_ago(21, "ECJU", hour=9),
            item_codes=["1C226"],
            destination="CN",
            authority="ECJU",
            value="84000",
        )
        self.move(uk, "submit", self.working_days_ago(19, "ECJU"))
        self.move(
            uk,
            "request_info",
            self.working_days_ago(17, "ECJU"),
            reason="information",
            note="ECJU query: end-user undertaking signed by the consignee's director.",
        )
        self.shipment(
            uk,
            c("sh.0"),
            ship_on=today + dt.timedelta(days=35),
            quantity="120",
            value="84000",
            created=self.working_days_ago(18, "ECJU"),
        )
        # Submitted 25 working days ago: past the 20 of the SIEL target.
        late = self.application(
            "sh",
            created=self.working_days_ago(27, "ECJU", hour=9),
            item_codes=["1C117.c"],
            destination="IN",
            authority="ECJU",
            quantity="300",
            value="28500",
        )
        self.move(late, "submit", self.working_days_ago(25, "ECJU"))
        self.shipment(
            late,
            c("sh.1"),
            ship_on=today + dt.timedelta(days=8),
            quantity="300",
            value="28500",
            created=self.working_days_ago(24, "ECJU"),
        )
        # Submitted 17 working days ago: due soon.
        soon = self.application(
            "sh",
            created=self.working_days_ago(18, "ECJU", hour=9),
            item_codes=["1C226"],
            destination="TR",
            authority="ECJU",
            quantity="90",
            value="12600",
        )
        self.move(soon, "submit", self.working_days_ago(17, "ECJU"))
        # Approved a month ago; its shipment left five days ago.
        brazil = self.application(
            "sh",
            created=self.days_ago(60, "ECJU", hour=9),
            item_codes=["1C226"],
            destination="BR",
            authority="ECJU",
            quantity="60",
            value="8400",
        )
        self.move(brazil, "submit", self.days_ago(58, "ECJU"))
        sent = self.shipment(
            brazil,
            c("sh.3"),
            ship_on=today - dt.timedelta(days=5),
            quantity="60",
            value="8400",
            created=self.days_ago(57, "ECJU"),
        )
        self.move(
            brazil,
            "approve",
            self.days_ago(30, "ECJU"),
            license_number="GBSIEL/2026/0051873/P",
            valid_until=today + dt.timedelta(days=700),
        )
        sent.refresh_from_db()
        self.ship_move(sent, "ship", self.days_ago(5, "ECJU"))

    def after_approval(self) -> None:
        """Licenses suspended, revoked, surrendered and under amendment."""
        c = self.consignee

        def licensed(exporter: str, consignee: Consignee, code: str, *, days_ago: int, **kw: Any):
            app = self.application(
                exporter,
                created=self.days_ago(days_ago + 62, hour=9),
                item_codes=[code],
                destination=consignee.country,
                **kw,
            )
            self.move(app, "submit", self.days_ago(days_ago + 60))
            self.move(app, "accept", self.days_ago(days_ago + 50))
            general = kw.get("license_type") == "general"
            self.move(
                app,
                "approve",
                self.days_ago(days_ago),
                license_number=self.license_number("MOFCOM", self.today),
                valid_until=self.today + dt.timedelta(days=300),
                **(
                    {
                        "approved_quantity": Decimal(kw["quantity"]),
                        "approved_value": Decimal(kw["value"]),
                    }
                    if general
                    else {}
                ),
            )
            return app

        # Suspended: its shipment waits until the license is reinstated.
        suspended = licensed("gz", c("gz.0"), "1C902", days_ago=90)
        self.shipment(
            suspended,
            c("gz.0"),
            ship_on=self.in_days(15),
            created=self.days_ago(60),
        )
        self.move(
            suspended,
            "suspend",
            self.days_ago(5),
            note="MOFCOM suspended the license pending an end-use check.",
        )
        # Revoked: its shipment goes back to planned and needs a new application.
        revoked = licensed("bt", c("bt.1"), "1C903", days_ago=120)
        self.shipment(
            revoked,
            c("bt.1"),
            ship_on=self.in_days(30),
            created=self.days_ago(100),
        )
        self.move(revoked, "revoke", self.days_ago(10), note="Revoked: end use changed.")
        # Surrendered: the exporter gave up a license it no longer needs.
        surrendered = licensed("zz", c("zz.0"), "1C117.d", days_ago=150)
        self.move(
            surrendered, "surrender", self.days_ago(20), note="Contract ended; license returned."
        )
        # A general license under amendment for 25 working days: past MOFCOM's 20 (overdue).
        amended = licensed(
            "gz",
            c("gz.0"),
            "1C902",
            days_ago=200,
            license_type="general",
            quantity="2000",
            value="600000",
        )
        self.shipment(
            amended,
            c("gz.0"),
            ship_on=self.in_days(20),
            quantity="500",
            value="150000",
            created=self.days_ago(120),
        )
        self.move(
            amended,
            "amend",
            self.working_days_ago(25),
            quantity=Decimal("3000"),
            value=Decimal("900000"),
            note="More volume for the customer's second production line.",
        )

    def decision(self) -> None:
        decision_log(
            authority=self.mofcom,
            announced_on=self.today - dt.timedelta(days=14),
            source="Demo: ministerial trade talks; MOFCOM offers a green channel for "
            "applications to Germany (pattern of the June 2025 EU talks)",
            window_days=30,
            effective_from=self.today - dt.timedelta(days=10),
            effective_until=None,
            destinations=["DE"],
            note="Demo decision.",
            actor=self.officer,
            now=self.days_ago(14, hour=17),
        )

    def users(self) -> None:
        User = get_user_model()
        for username, password, role, staff, limited in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "email": f"{username}@tracker.example.com",
                    "is_staff": staff,
                    "is_superuser": role == roles.ADMINISTRATOR,
                },
            )
            if created:
                user.set_password(password)
                user.save()
            user.groups.add(Group.objects.get(name=role))
            if limited:
                profile, _created = UserProfile.objects.get_or_create(user=user)
                profile.limited_to_exporters = True
                profile.save()
                profile.exporters.set(
                    [e for e in self.exporters.values() if e.registration_number in limited]
                )
            if username == "officer":
                self.officer = user
