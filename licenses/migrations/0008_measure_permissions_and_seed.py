"""The roles' permissions on measures, and the Chinese measures of 2023–2025 with their
suspensions and the items they name whose codes are published (shared DOMAIN.md §1.5, §1.6,
§5.2). Where a code is inferred, the item's description says so; where a measure's codes are
not published, it names no items and its note says so.

An item a measure names is governed by its measures from now on (it needs a license when a
`control` measure applies); items no measure names still always need one.
"""

import contextlib
import datetime as dt
from importlib import import_module

from django.db import migrations
from django.db.models.deletion import ProtectedError
from django.utils import timezone

NO_70 = "MOFCOM 2025 No. 70"
SUSPENDED_BY_70 = [("2025-11-07", "2026-11-10", NO_70)]
PILLSBURY = (
    "https://www.pillsburylaw.com/en/news-and-insights/"
    "china-suspends-export-controls-certain-critical-minerals-related-items.html"
)

# (code, description, material, unit); existing items (migration 0004) are kept as they are.
ITEMS = [
    ("1C902", "Samarium: metal, alloys, targets, SmCo magnets, oxide and compounds", "samarium"),
    ("1C903", "Gadolinium: metal, alloys, targets, oxide and compounds", "gadolinium"),
    ("1C117.c", "Solid tungsten (more than 97% by weight) and related items", "tungsten"),
    ("1C117.d", "Ammonium paratungstate and tungsten oxides (not WC under 1C226)", "tungsten"),
    ("1C904", "Terbium: metal, alloys, oxide, compounds and mixtures", "terbium"),
    (
        "1C905",
        "Dysprosium: metal, alloys, oxide, compounds and mixtures (code inferred from the "
        "order of MOFCOM/GAC 2025 No. 18, unconfirmed)",
        "dysprosium",
    ),
    (
        "1C906",
        "Lutetium: metal, alloys, oxide, compounds and mixtures (code inferred from the order "
        "of MOFCOM/GAC 2025 No. 18, unconfirmed)",
        "lutetium",
    ),
    (
        "1C907",
        "Scandium: metal, alloys, oxide, compounds and mixtures (code inferred from the order "
        "of MOFCOM/GAC 2025 No. 18, unconfirmed)",
        "scandium",
    ),
    (
        "1C908",
        "Yttrium: metal, alloys, oxide, compounds and mixtures (code inferred from the order "
        "of MOFCOM/GAC 2025 No. 18, unconfirmed)",
        "yttrium",
    ),
    ("1C909", "Holmium: metal, alloys, oxide, compounds and mixtures", "holmium"),
    ("1C910", "Erbium: metal, alloys, oxide, compounds and mixtures", "erbium"),
    ("1C911", "Thulium: metal, alloys, oxide, compounds and mixtures", "thulium"),
    ("1C912", "Europium: metal, alloys, oxide, compounds and mixtures", "europium"),
    (
        "1C913",
        "Ytterbium: metal, alloys, oxide, compounds and mixtures (code inferred, unconfirmed)",
        "ytterbium",
    ),
    (
        "1E902.a",
        "Rare-earth technologies: mining, separation, smelting, magnet-making, recycling",
        "rare-earth technology",
    ),
    (
        "1E902.b",
        "Rare-earth technologies: production-line assembly, commissioning, repair",
        "rare-earth technology",
    ),
]
NEW_CODES = [code for code, *_rest in ITEMS[4:]]

MEASURES = [
    {
        "reference": "MOFCOM/GAC 2023 No. 23",
        "title": "Export controls on gallium- and germanium-related items",
        "announced_on": "2023-07-03",
        "effective_from": "2023-08-01",
        "effective_until": "2024-11-30",
        "source": "https://chinajusticeobserver.com/a/"
        "china-imposes-export-controls-on-gallium-and-germanium",
        "note": "Absorbed into the unified dual-use list (MOFCOM 2024 No. 51) from 1 December "
        "2024. Its item codes are not published here, so it names no items.",
    },
    {
        "reference": "MOFCOM/GAC 2023 No. 39",
        "title": "Export controls on graphite items: synthetic graphite above 99.9% purity "
        "(strength at least 30 MPa, density at least 1.73 g/cm3), natural flake graphite "
        "including spherical and expanded",
        "announced_on": "2023-10-20",
        "effective_from": "2023-12-01",
        "source": "http://portuguese.people.com.cn/n3/2023/1020/c309807-20087169.html",
        "note": "The announcement number is unconfirmed. Item codes not published: it names "
        "no items.",
    },
    {
        "reference": "MOFCOM/GAC 2024 No. 33",
        "title": "Export controls on antimony items and superhard materials",
        "announced_on": "2024-08-15",
        "effective_from": "2024-09-15",
        "source": "um-material.com: Announcement No. 33 of 2024 (full text); taishanchuanggu.com",
        "note": "Antimony ores, metal, oxides of 99.99% and above, organics, hydrides, indium "
        "antimonide; superhard-material items. Item codes not published: it names no items.",
    },
    {
        "reference": "MOFCOM 2024 No. 51",
        "title": "Dual-use Items Export Control List (unified list)",
        "announced_on": "2024-11-15",
        "effective_from": "2024-12-01",
        "source": "MOFCOM Announcement No. 51 of 2024",
        "note": "About 700 items in 10 categories. No items recorded here: each item is "
        "recorded under the announcement that put it under control.",
    },
    {
        "reference": "MOFCOM 2024 No. 46",
        "title": "Clause 2: exports of gallium, germanium, antimony and superhard materials to "
        "the United States denied in principle; stricter end-user checks for graphite",
        "kind": "ban",
        "announced_on": "2024-12-03",
        "effective_from": "2024-12-03",
        "destinations": ["US"],
        "suspensions": [("2025-11-09", "2026-11-27", "MOFCOM 2025 No. 72")],
        "source": "https://www.businesstimes.com.sg/international/"
        "china-suspends-ban-exports-gallium-germanium-antimony-us",
        "note": "Clause 1 (no exports to US military end users and uses) is not suspended. "
        "Item codes not published: it names no items.",
    },
    {
        "reference": "MOFCOM/GAC 2025 No. 10",
        "title": "Export controls on tungsten, tellurium, bismuth, molybdenum and indium items",
        "announced_on": "2025-02-04",
        "effective_from": "2025-02-04",
        "items": ["1C117.c", "1C117.d"],
        "source": "https://um-material.com/da/news/"
        "china-implements-export-controls-on-tungsten-tellurium-and-other-related-items",
        "note": "Only the tungsten codes are published; tellurium, bismuth, molybdenum and "
        "indium items are not recorded.",
    },
    {
        "reference": "MOFCOM/GAC 2025 No. 18",
        "title": "Export controls on medium and heavy rare earths: samarium, gadolinium, "
        "terbium, dysprosium, lutetium, scandium, yttrium",
        "announced_on": "2025-04-04",
        "effective_from": "2025-04-04",
        "items": ["1C902", "1C903", "1C904", "1C905", "1C906", "1C907", "1C908"],
        "source": "https://hklaw.com/en/insights/publications/2025/04/"
        "china-imposes-export-controls-on-medium-and-heavy-rare-earth-materials",
        "note": "Not suspended by No. 70. Codes 1C905-1C908 are inferred from the order of "
        "the announcement.",
    },
    {
        "reference": "MOFCOM/GAC 2025 No. 55",
        "title": "Export controls on superhard materials",
        "announced_on": "2025-10-09",
        "effective_from": "2025-11-08",
        "suspensions": SUSPENDED_BY_70,
        "source": PILLSBURY,
        "note": "Item codes not published: it names no items.",
    },
    {
        "reference": "MOFCOM/GAC 2025 No. 56",
        "title": "Export controls on rare-earth equipment and raw and auxiliary materials",
        "announced_on": "2025-10-09",
        "effective_from": "2025-11-08",
        "suspensions": SUSPENDED_BY_70,
        "source": PILLSBURY,
        "note": "Item codes not published: it names no items.",
    },
    {
        "reference": "MOFCOM/GAC 2025 No. 57",
        "title": "Export controls on holmium, erbium, thulium, europium and ytterbium",
        "announced_on": "2025-10-09",
        "effective_from": "2025-11-08",
        "items": ["1C909", "1C910", "1C911", "1C912", "1C913"],
        "suspensions": SUSPENDED_BY_70,
        "source": "https://gubaposthk.eastmoney.com/news,cjpl,1608530642.html",
        "note": "Code 1C913 (ytterbium) is inferred.",
    },
    {
        "reference": "MOFCOM/GAC 2025 No. 58",
        "title": "Export controls on lithium-battery, cathode and graphite-anode items",
        "announced_on": "2025-10-09",
        "effective_from": "2025-11-08",
        "suspensions": SUSPENDED_BY_70,
        "source": PILLSBURY,
        "note": "Item codes not published: it names no items.",
    },
    {
        "reference": "MOFCOM 2025 No. 61",
        "title": "Extraterritorial rule: Chinese-origin items, overseas items with at least "
        "0.1% Chinese rare-earth content by value, and Chinese technology",
        "announced_on": "2025-10-09",
        "effective_from": "2025-10-09",
        "suspensions": SUSPENDED_BY_70,
        "source": "https://www.chemradar.com/en/news/detail/f1la2toi5p1c",
        "note": "Chinese-origin items from publication; overseas items with at least 0.1% "
        "Chinese rare-earth content and Chinese technology from 1 December 2025. It names no "
        "items.",
    },
    {
        "reference": "MOFCOM 2025 No. 62",
        "title": "Export controls on rare-earth technologies",
        "announced_on": "2025-10-09",
        "effective_from": "2025-10-09",
        "items": ["1E902.a", "1E902.b"],
        "suspensions": SUSPENDED_BY_70,
        "source": "hk.crntt.com: MOFCOM Announcement No. 62 of 2025; "
        "https://www.fredgao.com/p/china-implements-new-export-controls",
        "note": "",
    },
]


def _grant(apps):
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("licenses")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    import_module("licenses.migrations.0003_roles").sync_roles(apps)


def seed(apps, schema_editor):
    _grant(apps)
    Authority = apps.get_model("licenses", "Authority")
    ControlledItem = apps.get_model("licenses", "ControlledItem")
    Measure = apps.get_model("licenses", "Measure")
    MeasureSuspension = apps.get_model("licenses", "MeasureSuspension")
    MeasureChange = apps.get_model("licenses", "MeasureChange")
    mofcom = Authority.objects.filter(code="MOFCOM").first()
    if mofcom is None:
        return
    items = {}
    for code, description, material in ITEMS:
        items[code], _created = ControlledItem.objects.get_or_create(
            authority=mofcom,
            code=code,
            defaults={
                "description": description,
                "material": material,
                "unit": "item" if code.startswith("1E") else "kg",
            },
        )
    now = timezone.now()
    for row in MEASURES:
        if Measure.objects.filter(authority=mofcom, reference=row["reference"]).exists():
            continue
        measure = Measure.objects.create(
            authority=mofcom,
            reference=row["reference"],
            title=row["title"],
            kind=row.get("kind", "control"),
            announced_on=dt.date.fromisoformat(row["announced_on"]),
            effective_from=dt.date.fromisoformat(row["effective_from"]),
            effective_until=(
                dt.date.fromisoformat(row["effective_until"])
                if row.get("effective_until")
                else None
            ),
            destinations=row.get("destinations", []),
            source=row["source"],
            note=row["note"],
        )
        suspensions = row.get("suspensions", [])
        for starts_on, ends_on, reference in suspensions:
            MeasureSuspension.objects.create(
                measure=measure,
                starts_on=dt.date.fromisoformat(starts_on),
                ends_on=dt.date.fromisoformat(ends_on),
                reference=reference,
            )
        item_ids = sorted(items[code].pk for code in row.get("items", []))
        measure.items.set(item_ids)
        shown = {
            "authority": "MOFCOM",
            "reference": measure.reference,
            "title": measure.title,
            "kind": measure.kind,
            "announced_on": row["announced_on"],
            "effective_from": row["effective_from"],
            "effective_until": row.get("effective_until"),
            "suspensions": [{"from": s, "until": u, "reference": r} for s, u, r in suspensions],
            "items": item_ids,
            "destinations": measure.destinations,
            "source": measure.source,
            "note": measure.note,
        }
        MeasureChange.objects.create(
            measure=measure,
            changed_at=now,
            actor=None,
            action="created",
            changes={name: [None, value] for name, value in shown.items()},
            note="Seeded from the published announcements.",
        )


def unseed(apps, schema_editor):
    Measure = apps.get_model("licenses", "Measure")
    ControlledItem = apps.get_model("licenses", "ControlledItem")
    seeded = Measure.objects.filter(
        authority__code="MOFCOM", reference__in=[row["reference"] for row in MEASURES]
    )
    apps.get_model("licenses", "MeasureChange").objects.filter(measure__in=seeded).delete()
    apps.get_model("licenses", "MeasureSuspension").objects.filter(measure__in=seeded).delete()
    seeded.delete()
    for item in ControlledItem.objects.filter(authority__code="MOFCOM", code__in=NEW_CODES):
        with contextlib.suppress(ProtectedError):  # named by an application since: kept
            item.delete()


class Migration(migrations.Migration):
    dependencies = [("licenses", "0007_states_pauses_and_windows")]

    operations = [migrations.RunPython(seed, unseed)]
