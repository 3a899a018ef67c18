"""In a real browser: the fast-track form's pickers filter as you type, by mouse and by
keyboard, in English and Chinese, and submit the chosen values; with JavaScript off the plain
multi-selects still work; and a CSV file saved as GBK (what Excel writes on a Chinese Windows)
is imported through the import page with its Chinese consignee names intact."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from licenses.models import FastTrackDecision
from shipments.imports import COLUMNS
from shipments.models import Shipment

from ...factories import ConsigneeFactory, ExporterFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

FILTER = "Type to filter"


def fill_decision(page) -> None:
    page.get_by_label("Authority").select_option(label="MOFCOM")
    page.get_by_label("Source").fill("Ministerial trade talks, MOFCOM press release")
    page.get_by_label("New review window").fill("20")


def test_the_pickers_filter_as_you_type_and_submit_what_was_ticked(
    page, sign_in, manager, ganzhou, baotou, problems
):
    from ..test_fast_track import under_review

    ExporterFactory(name="Baotou Steel Rare Earth Hi-Tech")
    mine = under_review(ganzhou, "GZ-FT-1")
    under_review(baotou, "BT-FT-1")
    sign_in(manager)
    page.goto("/fast-track/new/")
    fill_decision(page)

    # exporters: type part of a name, tick what is left
    exporters = page.get_by_role("searchbox", name=f"Exporters — {FILTER}")
    exporters.fill("ganz")
    group = page.get_by_role("group", name="Exporters")
    ticks = group.get_by_role("checkbox")
    visible = [t for t in ticks.all() if t.is_visible()]
    assert len(visible) == 1
    group.get_by_role("checkbox", name=ganzhou.name).check()
    status = page.locator(".picker-status").nth(1)
    assert status.inner_text() == "1 of 3 shown, 1 chosen"
    exporters.fill("baotou")
    assert [t.is_visible() for t in ticks.all()].count(True) == 2
    exporters.fill("nothing like it")
    assert status.inner_text().startswith("Nothing matches.")

    # items, by keyboard only: filter, Down to the first box shown, Space ticks it
    items = page.get_by_role("searchbox", name=f"Controlled items — {FILTER}")
    items.fill("1c902")
    items.press("ArrowDown")
    page.keyboard.press("Space")
    assert page.locator(".picker-status").nth(0).inner_text().endswith("1 chosen")

    # applications: Escape clears the filter
    applications = page.get_by_role("searchbox", name=f"Named applications — {FILTER}")
    applications.fill("GZ-FT")
    page.get_by_role("group", name="Named applications").get_by_role("checkbox").first.check()
    applications.press("Escape")
    assert applications.input_value() == ""

    page.get_by_role("button", name="Preview").click()
    page.locator("#consequences").wait_for()
    assert page.locator('dd[data-figure="moved"]').inner_text().startswith("1 application")
    # the preview's page shows the same choices ticked again
    assert group.get_by_role("checkbox", name=ganzhou.name).is_checked()
    page.get_by_role("button", name="Log the decision").click()
    page.get_by_text("it moved the due date of 1 pending application").wait_for()

    decision = FastTrackDecision.objects.get()
    assert list(decision.exporters.all()) == [ganzhou]
    assert list(decision.items.values_list("code", flat=True)) == ["1C902"]
    assert list(decision.applications.all()) == [mine]
    assert problems.console == [] and problems.page_errors == [] and problems.csp(page) == []


def test_the_pickers_speak_chinese(page, sign_in, manager, ganzhou, live_server, problems):
    sign_in(manager)
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "zh-hans", "url": live_server.url}]
    )
    page.goto("/fast-track/new/")
    box = page.locator(".picker input[type=search]").nth(1)
    assert box.get_attribute("placeholder") == "输入以筛选"
    box.fill("ganzhou")
    assert page.locator(".picker-status").nth(1).inner_text() == "显示 1 / 1 项，已选 0 项"  # noqa: RUF001
    assert problems.console == [] and problems.page_errors == []


def test_without_javascript_the_plain_multi_selects_work(
    browser, live_server, manager, ganzhou, baotou
):
    from ..test_fast_track import under_review

    under_review(ganzhou, "GZ-FT-1")
    under_review(baotou, "BT-FT-1")
    client = Client()
    client.force_login(manager)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    try:
        page.goto("/fast-track/new/")
        assert page.locator(".picker").count() == 0  # nothing enhanced
        fill_decision(page)
        page.get_by_label("Exporters").select_option(label=[ganzhou.name, baotou.name])
        page.get_by_role("button", name="Preview").click()
        page.locator("#consequences").wait_for()
        assert page.locator('dd[data-figure="moved"]').inner_text().startswith("2 applications")
        page.get_by_role("button", name="Log the decision").click()
        page.get_by_text("it moved the due dates of 2 pending applications").wait_for()
    finally:
        context.close()
    assert set(FastTrackDecision.objects.get().exporters.all()) == {ganzhou, baotou}


NAMES = ["北京稀土永磁科技有限公司", "上海钆材料贸易有限公司"]


def test_a_gbk_encoded_csv_is_imported_with_its_chinese_names(
    page, sign_in, officer, world, problems
):
    exporter = world.mine.exporter
    for name in NAMES:
        ConsigneeFactory(exporter=exporter, name=name, country="DE")
    # well after today: a ship date in the past is refused on creation
    ship = (timezone.localdate() + dt.timedelta(days=200)).isoformat()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for n, name in enumerate(NAMES, start=1):
        writer.writerow(
            {
                "reference": f"GBK-{n}",
                "exporter_registration_number": exporter.registration_number,
                "authority": "MOFCOM",
                "item_code": "1C902",
                "quantity": "10",
                "value": "2500.00",
                "currency": "USD",
                "destination": "DE",
                "consignee": name,
                "planned_ship_date": ship,
                "application_reference": "",
            }
        )
    data = buffer.getvalue().encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # truly GBK, not UTF-8 in disguise

    sign_in(officer)
    page.goto("/shipments/import/")
    page.get_by_label("CSV file").set_input_files(
        {"name": "发货计划.csv", "mimeType": "text/csv", "buffer": data}
    )
    page.get_by_role("button", name="Check and import").click()
    page.get_by_text("2 shipments imported.").wait_for()
    imported = Shipment.objects.filter(reference__startswith="GBK-").order_by("reference")
    assert [s.consignee.name for s in imported] == NAMES
    assert {s.planned_ship_date.isoformat() for s in imported} == {ship}
    page.get_by_role("link", name="GBK-1").click()
    assert NAMES[0] in page.locator("main").inner_text()
    assert problems.console == [] and problems.page_errors == [] and problems.csp(page) == []


def test_the_watched_exporters_boxes_filter_as_you_type(
    page, sign_in, officer, ganzhou, baotou, problems
):
    from monitoring.models import AlertPreference

    sign_in(officer)
    page.goto("/settings/alerts/")
    page.get_by_label("Only the exporters ticked below").check()
    box = page.get_by_role("searchbox", name=f"Watched exporters — {FILTER}")
    box.fill("baotou")
    assert page.get_by_label(ganzhou.name).is_hidden()
    page.get_by_label(baotou.name).check()
    box.fill("")
    assert page.get_by_label(ganzhou.name).is_visible()
    page.get_by_role("button", name="Save").click()
    page.locator(".message").first.wait_for()
    saved = AlertPreference.objects.get(user=officer)
    assert not saved.watch_all and list(saved.watched_exporters.all()) == [baotou]
    assert problems.console == [] and problems.page_errors == [] and problems.csp(page) == []
