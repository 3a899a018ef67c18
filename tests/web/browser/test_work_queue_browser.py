"""The work queue and the lists in a real browser: the queue's row opens the page where the
work is done (and filing an application there works), the shipments list shows every column
at 1366 px without sideways scrolling, dates on one line and long names cut but whole on
focus, and at 390 px every list is a stack of cards that never scrolls sideways.

The data is built at fixed distances from one reading of the clock (the live server and the
browser keep the real clock: a real browser judges cookies by it)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from licenses import services
from licenses.models import LicenseApplication
from shipments import services as shipping
from tests.web.conftest import open_flag

from ...factories import ExporterFactory, item

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LONG_EXPORTER = "Ganzhou Rare Earth Minmetals Import and Export Trading Company Limited"
LONG_CONSIGNEE = "Vacuumschmelze Hanau Magnetic Components Manufacturing GmbH & Co. KG"
LISTS = ["/shipments/", "/applications/", "/consignees/", "/exporters/", "/measures/"]


def build(now: dt.datetime):
    """A planned shipment whose last day to file has passed, and an application long overdue
    with a shipment waiting on it under every flag a shipment can carry."""
    exporter = ExporterFactory(name=LONG_EXPORTER)
    consignee = shipping.consignee_create(
        now=now, actor=None, exporter=exporter, name=LONG_CONSIGNEE, country="DE"
    )

    def shipment(reference: str, days: int, application=None):
        return shipping.shipment_create(
            now=now,
            actor=None,
            exporter=exporter,
            reference=reference,
            item=item("1C902"),
            quantity=Decimal("12500.5"),
            value=Decimal("3450000"),
            currency="USD",
            destination="DE",
            consignee=consignee,
            planned_ship_date=(now + dt.timedelta(days=days)).date(),
            application=application,
        )

    to_file = shipment("GZ-2026-FILE-0001", 40)
    application = services.application_create(
        now=now,
        actor=None,
        items=[item("1C902")],
        exporter=exporter,
        authority=item("1C902").authority,
        license_type="individual",
        destination="DE",
        reference="GZ-2026-APP-0001",
        quantity=Decimal("12500.5"),
        value=Decimal("3450000"),
        currency="USD",
    )
    waiting = shipment("GZ-2026-SHP-0002", 5, application)
    services.application_submit(
        application=application, at=now - dt.timedelta(days=90), now=now, actor=None
    )
    for kind in ("at_risk", "file_by", "control_change", "license_expires"):
        open_flag(shipment=waiting, exporter=exporter, kind=kind, raised_at=now)
    open_flag(application=application, exporter=exporter, kind="overdue", raised_at=now)
    for n in range(3, 8):
        shipment(f"GZ-2026-SHP-{n:04d}", 30 + n)
    return to_file, application


def overflow(page) -> dict:
    return page.evaluate(
        """() => ({
            scroll: document.documentElement.scrollWidth,
            client: document.documentElement.clientWidth,
            tables: [...document.querySelectorAll('.table-scroll')].map(
                (t) => t.scrollWidth - t.clientWidth),
        })"""
    )


def test_the_work_queue_row_opens_the_page_where_the_work_is_done(
    page, live_server, officer, sign_in, problems
):
    to_file, _application = build(timezone.now())
    sign_in(officer)
    page.goto("/")
    queue = page.locator("#work-queue")
    rows = queue.locator("tbody tr")
    assert rows.count() >= 3
    # The most urgent first: the application overdue for about 80 days.
    assert "GZ-2026-APP-0001" in rows.first.inner_text()
    assert "days late" in rows.first.inner_text()
    row = queue.locator("tr", has_text="GZ-2026-FILE-0001")
    assert "Last day to file" in row.inner_text()
    row.get_by_role("link", name="File an application").click()
    page.wait_for_url(f"**/shipments/{to_file.pk}/#file-application")
    page.get_by_role("button", name="File an application for this shipment").click()
    page.wait_for_url("**/applications/*/")
    draft = LicenseApplication.objects.get(reference="GZ-2026-FILE-0001-APP")
    assert page.url.endswith(f"/applications/{draft.pk}/")
    assert "Draft application GZ-2026-FILE-0001-APP filed" in page.inner_text("main")
    to_file.refresh_from_db()
    assert to_file.application_id == draft.pk
    assert problems.console == [] and problems.page_errors == [] and problems.csp(page) == []


def test_the_shipments_list_fits_1366_pixels(page, live_server, officer, sign_in, problems):
    build(timezone.now())
    sign_in(officer)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/shipments/")
    sizes = overflow(page)
    assert sizes["scroll"] <= sizes["client"], sizes
    assert sizes["tables"] == [0], sizes  # every column inside the table's box
    flags = page.locator("thead th", has_text="Flags").bounding_box()
    assert flags is not None and flags["x"] + flags["width"] <= 1366
    chips = page.locator("tr", has_text="GZ-2026-SHP-0002").locator(".flag")
    assert chips.count() == 5
    # Dates on one line, never "2026-/12-15".
    lines = page.evaluate(
        """() => [...document.querySelectorAll('td.date')].map((td) => {
            const range = document.createRange(); range.selectNodeContents(td);
            return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
        })"""
    )
    assert lines and set(lines) == {1}
    # A long name is cut with an ellipsis, whole in its title and while focused.
    name = page.locator("td .clip", has_text=LONG_EXPORTER).first
    assert name.get_attribute("title") == LONG_EXPORTER
    cut = name.evaluate("(e) => e.scrollWidth > e.clientWidth")
    assert cut
    name.focus()
    assert name.evaluate("(e) => e.scrollWidth <= e.clientWidth && e === document.activeElement")
    for url in LISTS[1:]:
        page.goto(url)
        sizes = overflow(page)
        assert sizes["scroll"] <= sizes["client"] and set(sizes["tables"]) <= {0}, (url, sizes)
    assert problems.console == [] and problems.page_errors == [] and problems.csp(page) == []


def test_on_a_phone_every_list_is_a_stack_of_cards(page, live_server, officer, sign_in):
    build(timezone.now())
    sign_in(officer)
    page.set_viewport_size({"width": 390, "height": 844})
    for url in ["/", *LISTS]:
        page.goto(url)
        sizes = overflow(page)
        assert sizes["scroll"] <= sizes["client"], (url, sizes)
    page.goto("/shipments/")
    row = page.locator("tbody tr", has_text="GZ-2026-SHP-0002")
    assert row.evaluate("(e) => getComputedStyle(e).display") == "block"
    assert not page.locator("table.cards thead").is_visible() or page.locator(
        "table.cards thead"
    ).evaluate("(e) => e.getBoundingClientRect().height <= 1")
    caption = row.locator("td[data-label]").first.evaluate(
        "(e) => getComputedStyle(e, '::before').content"
    )
    assert caption == '"Exporter"'
    box = row.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    flags = row.locator("td.col-flags").bounding_box()
    assert flags is not None and flags["x"] + flags["width"] <= 390
