"""Authorities with their default windows and calendars, and the published control-list items.

Sources in shared DOMAIN.md: MOFCOM 45 working days (statutory limit for dual-use items, clock
from acceptance, provincial forwarding within 10 working days); BIS 90 calendar days from
registration (15 CFR 750.4); ECJU 20 working days (SIEL service target). Item codes 1C902,
1C903 (MOFCOM/GAC Ann. 18 [2025]) and 1C117.c/.d (Ann. 10 [2025]).
"""

from django.db import migrations

AUTHORITIES = [
    {
        "code": "MOFCOM",
        "name": "Ministry of Commerce of the People's Republic of China",
        "country": "CN",
        "time_zone": "Asia/Shanghai",
        "calendar_country": "CN",
        "calendar_subdivision": "",
        "window_days": 45,
        "window_unit": "working",
        "clock_starts": "accepted",
        "acceptance_window_days": 10,
    },
    {
        "code": "BIS",
        "name": "US Department of Commerce, Bureau of Industry and Security",
        "country": "US",
        "time_zone": "America/New_York",
        "calendar_country": "US",
        "calendar_subdivision": "",
        "window_days": 90,
        "window_unit": "calendar",
        "clock_starts": "submitted",
        "acceptance_window_days": 10,
    },
    {
        "code": "ECJU",
        "name": "UK Export Control Joint Unit",
        "country": "GB",
        "time_zone": "Europe/London",
        "calendar_country": "GB",
        "calendar_subdivision": "ENG",
        "window_days": 20,
        "window_unit": "working",
        "clock_starts": "submitted",
        "acceptance_window_days": 10,
    },
]

ITEMS = [
    ("1C902", "Samarium: metal, alloys, targets, SmCo magnets, oxide and compounds", "samarium"),
    ("1C903", "Gadolinium: metal, alloys, targets, oxide and compounds", "gadolinium"),
    ("1C117.c", "Solid tungsten (more than 97% by weight) and related items", "tungsten"),
    ("1C117.d", "Ammonium paratungstate and tungsten oxides (not WC under 1C226)", "tungsten"),
]


def seed(apps, schema_editor):
    Authority = apps.get_model("licenses", "Authority")
    ControlledItem = apps.get_model("licenses", "ControlledItem")
    for row in AUTHORITIES:
        Authority.objects.update_or_create(code=row["code"], defaults=row)
    mofcom = Authority.objects.get(code="MOFCOM")
    for code, description, material in ITEMS:
        ControlledItem.objects.update_or_create(
            authority=mofcom,
            code=code,
            defaults={"description": description, "material": material, "unit": "kg"},
        )


class Migration(migrations.Migration):
    dependencies = [("licenses", "0003_roles")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
