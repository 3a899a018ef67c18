"""Alert settings: each user chooses among the exporters they may see, the flag kinds they get
at once, the digest and its hour, their time zone and their language; until they save, the
form shows their role's defaults."""

from __future__ import annotations

import re

import pytest

from monitoring.alerts import _preferences
from monitoring.models import AlertPreference

pytestmark = pytest.mark.django_db


def checked(page: str, name: str) -> list[str]:
    """The values of the ticked boxes (or chosen radio) of a field."""
    inputs = re.findall(rf'<input type="(?:checkbox|radio)" name="{name}"[^>]*>', page)
    return [re.search(r'value="([^"]*)"', i).group(1) for i in inputs if " checked" in i]


def form_data(**overrides):
    return {
        "watch": "chosen",
        "watched_exporters": [],
        "immediate_kinds": ["overdue"],
        "digest": "on",
        "digest_hour": "7",
        "time_zone": "Asia/Shanghai",
        "language": "en",
    } | overrides


def test_an_officer_without_settings_sees_the_defaults_of_the_role(client, officer, world):
    client.force_login(officer)
    page = client.get("/settings/alerts/").content.decode()
    assert "what your role (Compliance officer) gets by default" in page
    assert checked(page, "watch") == ["all"]
    # Every kind that is e-mailed at once, the law's new ones included.
    assert checked(page, "immediate_kinds") == [
        "overdue",
        "at_risk",
        "file_by",
        "reply_due",
        "control_change",
        "license_expires",
    ]
    assert checked(page, "digest") == []
    assert not AlertPreference.objects.filter(user=officer).exists()


def test_a_manager_without_settings_gets_the_digest_by_default(client, manager, world):
    client.force_login(manager)
    page = client.get("/settings/alerts/").content.decode()
    assert checked(page, "immediate_kinds") == []
    assert 'name="digest" id="id_digest" checked' in page
    assert '<option value="8" selected>08:00</option>' in page


def test_saving_stores_the_choices_and_alerts_follow_them(client, manager, world):
    client.force_login(manager)
    response = client.post(
        "/settings/alerts/",
        form_data(watched_exporters=[world.theirs.exporter.pk], immediate_kinds=["at_risk"]),
    )
    assert response.status_code == 302
    saved = AlertPreference.objects.get(user=manager)
    assert not saved.watch_all
    assert list(saved.watched_exporters.all()) == [world.theirs.exporter]
    assert saved.immediate_kinds == ["at_risk"]
    assert (saved.digest, saved.digest_hour, saved.time_zone) == (True, 7, "Asia/Shanghai")
    effective = _preferences([manager])[manager.pk]
    assert effective.watched == frozenset({world.theirs.exporter.pk})
    page = client.get("/settings/alerts/").content.decode()
    assert "Your alert settings are saved." in page
    assert checked(page, "watch") == ["chosen"]
    assert checked(page, "watched_exporters") == [str(world.theirs.exporter.pk)]
    assert checked(page, "immediate_kinds") == ["at_risk"]
    assert '<option value="Asia/Shanghai" selected>' in page


def test_watching_every_exporter_includes_ones_added_later(client, officer, world):
    client.force_login(officer)
    client.post("/settings/alerts/", form_data(watch="all"))
    assert _preferences([officer])[officer.pk].watched is None


def test_a_limited_user_is_offered_only_the_exporters_they_may_see(client, limited, world):
    client.force_login(limited)
    page = client.get("/settings/alerts/").content.decode()
    assert world.mine.exporter.name in page
    assert world.theirs.exporter.name not in page


def test_a_limited_user_cannot_watch_an_exporter_they_may_not_see(client, limited, world):
    client.force_login(limited)
    response = client.post(
        "/settings/alerts/", form_data(watched_exporters=[world.theirs.exporter.pk])
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not AlertPreference.objects.filter(user=limited).exists()


def test_the_service_refuses_an_exporter_outside_the_limit_too(limited, world):
    from core.errors import InvalidInput
    from monitoring.preferences import preference_save

    with pytest.raises(InvalidInput) as refused:
        preference_save(
            user=limited,
            watch_all=False,
            watched=[world.theirs.exporter],
            immediate_kinds=[],
            digest=False,
            digest_hour=8,
            time_zone="UTC",
            language="en",
        )
    assert "watched_exporters" in refused.value.fields


@pytest.mark.parametrize(
    "field,value",
    [
        ("immediate_kinds", ["due_soon"]),
        ("digest_hour", "24"),
        ("time_zone", "Mars/Olympus_Mons"),
        ("language", "fr"),
        ("watch", "some"),
    ],
)
def test_unknown_choices_are_refused_on_their_field(client, officer, field, value):
    client.force_login(officer)
    response = client.post("/settings/alerts/", form_data(**{field: value}))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not AlertPreference.objects.filter(user=officer).exists()


def test_choosing_chinese_switches_the_pages_and_the_time_zone_at_once(client, officer):
    client.force_login(officer)
    response = client.post(
        "/settings/alerts/", form_data(language="zh-hans", watch="all"), follow=True
    )
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page
    assert "Asia/Shanghai" in page


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/settings/alerts/")
    assert response.status_code == 302 and "/login/" in response["Location"]
