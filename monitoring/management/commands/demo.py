"""Load a realistic sample: exporters in Ganzhou, elsewhere in China and in the UK, rare-earth,
gallium and tungsten shipments to several destinations, applications in every state (some
overdue, some at risk, one referred, one returned, licenses suspended, revoked, surrendered and
under amendment), every kind of flag, a correction, a fast-track decision, a measure whose
suspension ends before some planned shipments, and demo users of every role.

Everything is dated relative to today, so the sample looks alive whenever it is loaded, and
everything goes through the services, so events and due dates are real. Running it twice
changes nothing: the sample is loaded in one transaction, and only if it is not there yet.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from licenses import roles, services
from licenses.calendars import subtract_days
from licenses.clock import calendar_for
from licenses.fasttrack import decision_log
from licenses.models import Authority, ControlledItem, Exporter, UserProfile
from licenses.services.measures import measure_create
from shipments import services as shipping
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

EXPORTERS: list[dict[str, Any]] = [
    {
        "name": "Ganzhou Rare Earth Trading Co., Ltd.",
        "registration_number": DEMO_MARK,
        "country": "CN",
        "address": "Zhanggong District, Ganzhou, Jiangxi",
        "contact_emails": ["compliance@ganzhou-re.example.com"],
    },
    {
        "name": "Baotou Magnetics Export Co., Ltd.",
        "registration_number": "91150200-DEMO-BTMX",
        "country": "CN",
        "address": "Kundulun District, Baotou, Inner Mongolia",
        "contact_emails": ["export.control@baotou-mag.example.com"],
    },
    {
        "name": "Zhuzhou Tungsten Materials Co., Ltd.",
        "registration_number": "91430200-DEMO-ZZTM",
        "country": "CN",
        "address": "Hetang District, Zhuzhou, Hunan",
        "contact_emails": ["trade@zz-tungsten.example.com"],
    },
    {
        "name": "Sheffield Tungsten Alloys Ltd",
        "registration_number": "GB-DEMO-04417781",
        "country": "GB",
        "address": "Attercliffe, Sheffield S9",
        "contact_emails": ["export.licensing@sheffield-wa.example.com"],
    },
    {
        "name": "Yunnan Gallium Metals Co., Ltd.",
        "registration_number": "91530100-DEMO-YNGA",
        "country": "CN",
        "address": "Kunming, Yunnan",
        "contact_emails": ["licensing@yn-gallium.example.com"],
    },
]

CONSIGNEES = {
    DEMO_MARK: [
        ("Rheinland Magnettechnik GmbH", "DE", "Sintered NdFeB magnets for traction motors"),
        ("Kansai Precision Motors K.K.", "JP", "Servo motors for industrial robots"),
        ("Great Lakes Motion Inc.", "US", "Wind-turbine generator magnets"),
    ],
    "91150200-DEMO-BTMX": [
        ("Lyon Aimants SAS", "FR", "Magnet assemblies for e-bike hub motors"),
        ("Hanbit Electronics Co.", "KR", "Voice-coil actuators"),
    ],
    "91430200-DEMO-ZZTM": [
        ("Sheffield Hardmetals Ltd", "GB", "Cemented-carbide cutting tools"),
        ("Stuttgart Werkzeugbau AG", "DE", "Tungsten heavy-alloy counterweights"),
    ],
    "GB-DEMO-04417781": [
        ("Suzhou Precision Tooling Co., Ltd.", "CN", "Tungsten heavy-alloy tooling inserts"),
    ],
    "91530100-DEMO-YNGA": [
        ("Eindhoven Photonics B.V.", "NL", "GaN power semiconductors"),
        ("Hsinchu Epitaxy Corp.", "TW", "Compound-semiconductor wafers"),
    ],
}

# Items beyond the seeded four; their list codes are not confirmed (see DOMAIN.md), so the
# description says so.
DEMO_ITEMS = [
    ("1C904", "Terbium metal, oxide and compounds (code inferred, unconfirmed)", "terbium"),
    ("1C905", "Dysprosium metal, oxide and compounds (code inferred, unconfirmed)", "dysprosium"),
    ("GA-UNCONFIRMED", "Gallium metal and compounds (list code not confirmed)", "gallium"),
]
# An ECJU entry of the UK Strategic Export Control List (EU dual-use code 1C226).
ECJU_ITEMS = [
    ("1C226", "Tungsten and tungsten alloys (> 90 % W) in solid form, UK/EU 1C226", "tungsten"),
]


class Command(BaseCommand):
    help = "Load the demo sample (idempotent). Never runs under production settings."

    def handle(self, *args: Any, **options: Any) -> None:
        if not getattr(settings, "DEMO", False):
            raise CommandError("The demo is not loaded under these settings (DEMO is off).")
        if Exporter.objects.filter(registration_number=DEMO_MARK).exists():
            self.stdout.write("Demo data already loaded; nothing changed.")
        else:
            with transaction.atomic():
                Loader(now=timezone.now()).load()
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write("Demo sign-ins (username / password):")
        for username, password, role, _staff, limited in USERS:
            scope = " (limited to Ganzhou Rare Earth)" if limited else ""
            self.stdout.write(f"  {username:<9} {password:<20} {role}{scope}")


class Loader:
    def __init__(self, *, now: dt.datetime) -> None:
        self.now = now
        self.mofcom = Authority.objects.get(code="MOFCOM")
        self.tz = self.mofcom.tz
        self.calendar = calendar_for(self.mofcom)
        self.today = now.astimezone(self.tz).date()
        self.officer: Any = None
        self.seq = 0

    # -- helpers -------------------------------------------------------------------------

    def moment(self, days_ago: int, hour: int = 10) -> dt.datetime:
        day = self.today - dt.timedelta(days=days_ago)
        moment = dt.datetime.combine(day, dt.time(hour), tzinfo=self.tz)
        return min(moment, self.now - dt.timedelta(minutes=5))

    def working_days_ago(self, n: int, authority: Authority | None = None) -> dt.datetime:
        calendar, tz = (
            (calendar_for(authority), authority.tz) if authority else (self.calendar, self.tz)
        )
        today = self.now.astimezone(tz).date()
        day = subtract_days(calendar=calendar, end=today, n=n, unit="working")
        return min(dt.datetime.combine(day, dt.time(10), tzinfo=tz), self.now)

    def application(
        self,
        exporter,
        *,
        item_codes,
        destination,
        license_type="individual",
        quantity="500",
        value="150000",
        currency="USD",
        authority: Authority | None = None,
    ):
        self.seq += 1
        authority = authority or self.mofcom
        items = [ControlledItem.objects.get(authority=authority, code=c) for c in item_codes]
        return services.application_create(
            now=self.now,
            actor=self.officer,
            items=items,
            exporter=exporter,
            authority=authority,
            license_type=license_type,
            destination=destination,
            reference=f"{exporter.name.split()[0][:3].upper()}-2026-{self.seq:03d}",
            quantity=Decimal(quantity),
            value=Decimal(value),
            currency=currency,
        )

    def shipment(
        self,
        app,
        consignee,
        *,
        ship_in_days: int,
        quantity="100",
        value="30000",
        item_code=None,
        application=True,
    ):
        self.seq += 1
        item = (
            ControlledItem.objects.get(
                authority=app.authority if app else self.mofcom, code=item_code
            )
            if item_code
            else app.items.first()
        )
        ship_day = self.today + dt.timedelta(days=ship_in_days)
        # A shipment is planned ahead: one shipping before today was recorded back then.
        created = (
            self.now
            if ship_day >= self.today
            else dt.datetime.combine(ship_day, dt.time(0, 5), tzinfo=self.tz)
        )
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
            planned_ship_date=ship_day,
            application=app if application else None,
        )

    def move(self, app, name, when, **kwargs):
        if name == "accept" and not app.authority_reference:
            # MOFCOM gives its case number on acceptance (and acceptance requires it).
            kwargs.setdefault("authority_reference", f"{app.authority.code}-{app.reference}")
        return getattr(services, f"application_{name}")(
            application=app, at=when, now=self.now, actor=self.officer, **kwargs
        )

    # -- the sample ------------------------------------------------------------------------

    def load(self) -> None:
        ecju = Authority.objects.get(code="ECJU")
        for authority, rows in ((self.mofcom, DEMO_ITEMS), (ecju, ECJU_ITEMS)):
            for code, description, material in rows:
                ControlledItem.objects.get_or_create(
                    authority=authority,
                    code=code,
                    defaults={"description": description, "material": material, "unit": "kg"},
                )
        exporters = {
            row["registration_number"]: services.exporter_create(now=self.now, actor=None, **row)
            for row in EXPORTERS
        }
        self.users(exporters)
        consignees = {
            reg: [
                shipping.consignee_create(
                    now=self.now,
                    actor=self.officer,
                    exporter=exporters[reg],
                    name=n,
                    country=c,
                    end_use=u,
                )
                for n, c, u in rows
            ]
            for reg, rows in CONSIGNEES.items()
        }
        gz, bt, zz, sh, yn = (exporters[r["registration_number"]] for r in EXPORTERS)
        gz_de, gz_jp, gz_us = consignees[gz.registration_number]
        bt_fr, bt_kr = consignees[bt.registration_number]
        zz_gb, zz_de = consignees[zz.registration_number]
        yn_nl, yn_tw = consignees[yn.registration_number]
        (sh_cn,) = consignees[sh.registration_number]

        # Gallium under a measure suspended until 20 days from now: a shipment before the
        # suspension ends needs no license (cleared without an application); one after it
        # does (planned, file by, control_change).
        self.gallium_measure()
        self.shipment(None, yn_nl, ship_in_days=10, item_code="GA-UNCONFIRMED", application=False)
        self.shipment(None, yn_nl, ship_in_days=45, item_code="GA-UNCONFIRMED", application=False)

        # Drafts: one with a shipment that should already have been filed (file_by).
        draft = self.application(gz, item_codes=["1C902"], destination="DE")
        self.shipment(draft, gz_de, ship_in_days=40, quantity="250", value="75000")
        self.shipment(None, bt_kr, ship_in_days=30, item_code="1C903", application=False)
        ga_draft = self.application(
            yn, item_codes=["GA-UNCONFIRMED"], destination="NL", quantity="80"
        )
        self.shipment(ga_draft, yn_nl, ship_in_days=90, quantity="80", value="128000")

        # Submitted, awaiting acceptance.
        sub = self.application(bt, item_codes=["1C903"], destination="FR", currency="EUR")
        self.move(sub, "submit", self.working_days_ago(3))
        self.shipment(sub, bt_fr, ship_in_days=21, value="20000")

        # Accepted 60 working days ago: overdue; its shipment is at risk.
        late = self.application(
            gz, item_codes=["1C902", "1C904"], destination="JP", quantity="300", value="420000"
        )
        self.move(late, "submit", self.working_days_ago(66))
        self.move(
            late, "accept", self.working_days_ago(60), authority_reference="MOFCOM-DU-2026-04417"
        )
        self.shipment(
            late, gz_jp, ship_in_days=10, quantity="300", value="420000", item_code="1C902"
        )

        # Accepted, due in three working days (due soon); shipment planned before its due date.
        soon = self.application(zz, item_codes=["1C117.d"], destination="GB", value="95000")
        self.move(soon, "submit", self.working_days_ago(50))
        self.move(soon, "accept", self.working_days_ago(42))
        self.shipment(soon, zz_gb, ship_in_days=2, quantity="500", value="95000")

        # Accepted recently, with a correction of the acceptance date.
        fresh = self.application(zz, item_codes=["1C117.c"], destination="DE", value="60000")
        self.move(fresh, "submit", self.working_days_ago(12))
        self.move(fresh, "accept", self.working_days_ago(4))
        services.application_correct(
            application=fresh,
            at=self.working_days_ago(5),
            now=self.now,
            actor=self.officer,
            note="MOFCOM's acceptance notice is dated a day earlier than recorded.",
        )
        self.shipment(fresh, zz_de, ship_in_days=75, quantity="200", value="60000")

        # Information requested (the clock is stopped).
        info = self.application(gz, item_codes=["1C902"], destination="US", value="210000")
        self.move(info, "submit", self.working_days_ago(30))
        self.move(info, "accept", self.working_days_ago(25))
        self.move(
            info,
            "request_info",
            self.working_days_ago(6),
            note="End-use statement and photos of the production line requested.",
        )
        self.shipment(info, gz_us, ship_in_days=45, quantity="150", value="210000")

        # Approved individual licenses: one shipment delivered, one cleared.
        done = self.application(bt, item_codes=["1C903"], destination="KR", value="50000")
        self.move(done, "submit", self.working_days_ago(70))
        self.move(done, "accept", self.working_days_ago(65))
        self.move(
            done,
            "approve",
            self.working_days_ago(30),
            license_number="DU-2026-ZH-00781",
            valid_until=self.today + dt.timedelta(days=335),
        )
        delivered = self.shipment(done, bt_kr, ship_in_days=-20, value="50000")
        shipping.shipment_ship(
            shipment=delivered, at=self.working_days_ago(20), now=self.now, actor=self.officer
        )
        shipping.shipment_deliver(
            shipment=delivered, at=self.working_days_ago(8), now=self.now, actor=self.officer
        )

        # Approved general license with drawdown, expiring within 30 days.
        general = self.application(
            zz,
            item_codes=["1C117.d"],
            destination="DE",
            license_type="general",
            quantity="5000",
            value="900000",
        )
        first, second, third, _fourth = (
            self.shipment(general, zz_de, ship_in_days=days, quantity="1000", value="180000")
            for days in (-3, 12, 25, 40)
        )
        self.move(general, "submit", self.moment(400))
        self.move(general, "accept", self.moment(390))
        self.move(
            general,
            "approve",
            self.moment(340),
            license_number="DU-2025-HN-00212",
            valid_until=self.today + dt.timedelta(days=20),
            approved_quantity=Decimal("5000"),
            approved_value=Decimal("900000"),
        )
        for shipment in (first, second, third):
            shipment.refresh_from_db()
        shipping.shipment_ship(shipment=first, at=self.moment(3), now=self.now, actor=self.officer)
        shipping.shipment_hold(
            shipment=second,
            at=self.moment(2),
            now=self.now,
            actor=self.officer,
            note="Customer asked to delay delivery.",
        )
        shipping.shipment_cancel(
            shipment=third,
            at=self.moment(1),
            now=self.now,
            actor=self.officer,
            note="Order cancelled; its drawdown is released.",
        )

        # Exhausted general license.
        full = self.application(
            yn,
            item_codes=["GA-UNCONFIRMED"],
            destination="TW",
            license_type="general",
            quantity="40",
            value="64000",
        )
        self.move(full, "submit", self.moment(200))
        self.move(full, "accept", self.moment(190))
        self.move(
            full,
            "approve",
            self.moment(150),
            license_number="DU-2026-YN-00057",
            valid_until=self.today + dt.timedelta(days=200),
            approved_quantity=Decimal("40"),
            approved_value=Decimal("64000"),
        )
        self.shipment(full, yn_tw, ship_in_days=-10, quantity="40", value="64000")

        # Expired, rejected, withdrawn.
        old = self.application(gz, item_codes=["1C903"], destination="DE", value="30000")
        self.move(old, "submit", self.moment(500))
        self.move(old, "accept", self.moment(490))
        self.move(
            old,
            "approve",
            self.moment(430),
            license_number="DU-2025-JX-01934",
            valid_until=self.today - dt.timedelta(days=65),
        )
        services.application_expire(application=old, now=self.now)
        rejected = self.application(bt, item_codes=["1C902"], destination="US", value="88000")
        self.move(rejected, "submit", self.moment(120))
        self.move(rejected, "accept", self.moment(110))
        self.move(rejected, "reject", self.moment(50), reason="End user could not be verified.")
        withdrawn = self.application(yn, item_codes=["GA-UNCONFIRMED"], destination="NL")
        self.move(withdrawn, "submit", self.moment(90))
        self.move(withdrawn, "withdraw", self.moment(80), note="Customer cancelled the contract.")

        self.law_in_more_detail(gz=gz, bt=bt, zz=zz, sh=sh, ecju=ecju)
        self.later_moves(gz_de=gz_de, gz_us=gz_us, bt_kr=bt_kr, zz_gb=zz_gb, sh_cn=sh_cn)

        # A fast-track decision in force: the June 2025 "green channel" pattern, for Germany.
        self.decision()

    def gallium_measure(self) -> None:
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
            items=[ControlledItem.objects.get(authority=self.mofcom, code="GA-UNCONFIRMED")],
            source="Demo data (pattern of MOFCOM/GAC 2023 No. 23 and MOFCOM 2025 No. 70)",
            note="Demo measure: not an announcement of the authority.",
            actor=self.officer,
            now=self.now,
        )

    def law_in_more_detail(self, *, gz, bt, zz, sh, ecju) -> None:
        """Pauses with a reason, a reply deadline, a referral and a return."""
        # ECJU asked for information 17 working days ago; the applicant has 20 (reply due).
        uk = self.application(
            sh,
            item_codes=["1C226"],
            destination="CN",
            currency="GBP",
            value="84000",
            authority=ecju,
        )
        self.move(uk, "submit", self.working_days_ago(19, ecju))
        self.move(
            uk,
            "request_info",
            self.working_days_ago(17, ecju),
            reason="information",
            note="ECJU query: end-user undertaking signed by the consignee's director.",
        )
        # MOFCOM sent a file for expert review (the clock does not count those days).
        review = self.application(bt, item_codes=["1C903"], destination="KR", value="64000")
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
        referred = self.application(gz, item_codes=["1C903"], destination="US", value="72000")
        self.move(referred, "submit", self.working_days_ago(45))
        self.move(referred, "accept", self.working_days_ago(40))
        self.move(
            referred,
            "refer",
            self.working_days_ago(20),
            reason="watch_list",
            note="The end user was placed on the watch list.",
        )
        # Returned without action, to be filed again.
        returned = self.application(zz, item_codes=["1C117.c"], destination="GB", value="41000")
        self.move(returned, "submit", self.working_days_ago(22))
        self.move(returned, "accept", self.working_days_ago(18))
        self.move(
            returned,
            "return",
            self.working_days_ago(2),
            note="Returned: the contract copy was unsigned.",
        )
        self.ecju_uk, self.review, self.referred, self.returned = uk, review, referred, returned

    def later_moves(self, *, gz_de, gz_us, bt_kr, zz_gb, sh_cn) -> None:
        """Shipments under those applications, and licenses suspended, revoked, surrendered and
        under amendment."""
        self.shipment(self.ecju_uk, sh_cn, ship_in_days=35, quantity="120", value="84000")
        self.shipment(self.referred, gz_us, ship_in_days=60, quantity="90", value="72000")
        self.shipment(self.returned, zz_gb, ship_in_days=50, quantity="150", value="41000")

        def licensed(exporter, consignee, code, *, days_ago, license_number, **kw):
            app = self.application(exporter, item_codes=[code], destination=consignee.country, **kw)
            self.move(app, "submit", self.moment(days_ago + 60))
            self.move(app, "accept", self.moment(days_ago + 50))
            self.move(
                app,
                "approve",
                self.moment(days_ago),
                license_number=license_number,
                valid_until=self.today + dt.timedelta(days=300),
                **(
                    {
                        "approved_quantity": Decimal(kw["quantity"]),
                        "approved_value": Decimal(kw["value"]),
                    }
                    if kw.get("license_type") == "general"
                    else {}
                ),
            )
            return app

        # Suspended: its shipment waits until the license is reinstated.
        suspended = licensed(
            gz_de.exporter, gz_de, "1C902", days_ago=90, license_number="DU-2026-GZ-00913"
        )
        self.shipment(suspended, gz_de, ship_in_days=15, quantity="100", value="30000")
        self.move(
            suspended,
            "suspend",
            self.moment(5),
            note="MOFCOM suspended the license pending an end-use check.",
        )
        # Revoked: its shipment goes back to planned and needs a new application.
        revoked = licensed(
            bt_kr.exporter, bt_kr, "1C903", days_ago=120, license_number="DU-2026-BT-00388"
        )
        self.shipment(revoked, bt_kr, ship_in_days=30, quantity="100", value="30000")
        self.move(revoked, "revoke", self.moment(10), note="Revoked: end use changed.")
        # Surrendered: the exporter gave up a license it no longer needs.
        surrendered = licensed(
            zz_gb.exporter, zz_gb, "1C117.d", days_ago=150, license_number="DU-2026-ZZ-00122"
        )
        self.move(
            surrendered, "surrender", self.moment(20), note="Contract ended; license returned."
        )
        # A general license under amendment for 25 working days: past MOFCOM's 20 (overdue).
        amended = licensed(
            gz_de.exporter,
            gz_de,
            "1C902",
            days_ago=200,
            license_number="DU-2026-GZ-00577",
            license_type="general",
            quantity="2000",
            value="600000",
        )
        self.shipment(amended, gz_de, ship_in_days=20, quantity="500", value="150000")
        self.move(
            amended,
            "amend",
            self.working_days_ago(25),
            quantity=Decimal("3000"),
            value=Decimal("900000"),
            note="More volume for the customer's second production line.",
        )

    def decision(self) -> None:
        kwargs: dict[str, Any] = dict(
            authority=self.mofcom,
            announced_on=self.today - dt.timedelta(days=14),
            source="Demo: ministerial trade talks; MOFCOM offers a green channel for "
            "applications to Germany (pattern of the June 2025 EU talks)",
            window_days=30,
            effective_from=self.today - dt.timedelta(days=10),
            effective_until=None,
            destinations=["DE"],
            note="Demo decision.",
        )
        decision_log(actor=self.officer, now=self.now, **kwargs)

    def users(self, exporters: dict[str, Exporter]) -> None:
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
                profile.exporters.set([exporters[r] for r in limited])
            if username == "officer":
                self.officer = user
