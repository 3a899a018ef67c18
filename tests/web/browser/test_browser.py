"""The web forms in a real browser: sign in, record a shipment and its application, move the
application through submission, acceptance and approval with past dates, read the timeline,
see the dashboard's overdue shipments and charts, and no console error or CSP violation on
the main pages (the admin and the API docs included)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from licenses import services
from shipments import services as shipping
from tests.web.conftest import open_flag

from ...factories import ApplicationFactory, ConsigneeFactory, item
from ..conftest import ago, approve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def local_input(moment: dt.datetime) -> str:
    """A datetime-local value (the browser's user has no time zone preference: UTC)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M")


def record(page, move: str, at: dt.datetime, **fields: str) -> None:
    """Open a move on the application page, fill its form and record it."""
    page.get_by_text(move, exact=True).click()
    form = page.locator("details[open] form")
    form.get_by_label("When it happened").fill(local_input(at))
    for label, value in fields.items():
        form.get_by_label(label.replace("_", " ")).fill(value)
    form.get_by_role("button", name=f"Record: {move}").click()
    page.wait_for_load_state()


def test_an_officer_signs_in_records_a_shipment_and_its_application_and_approves_it(
    page, live_server, officer, ganzhou, problems
):
    consignee = ConsigneeFactory(exporter=ganzhou, name="Hamburg Magnet Works", country="DE")

    # Anonymous: sent to sign in, then back where it was going.
    page.goto("/applications/")
    assert "/login/" in page.url
    page.get_by_label("Username").fill("olga_officer")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/applications/")

    # The application, through its form.
    page.get_by_role("link", name="New application").click()
    page.get_by_label("Exporter").select_option(label=ganzhou.name)
    page.get_by_label("Authority", exact=True).select_option("MOFCOM")
    page.get_by_label("License type").select_option("individual")
    # a picker: type to filter, tick the item (picker.js enhances the multi-select)
    page.get_by_role("searchbox", name="Controlled items — Type to filter").fill("samarium")
    items = page.get_by_role("group", name="Controlled items")
    items.get_by_role("checkbox", name="MOFCOM · 1C902 samarium (kg)").check()
    page.get_by_label("Destination").select_option(label="Germany")
    page.get_by_label("Our reference").fill("GZ-2026-077")
    page.get_by_label("Quantity").fill("500")
    page.get_by_label("Value").fill("120000")
    page.get_by_label("Currency").fill("USD")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Application GZ-2026-077 created as a draft.").wait_for()

    # Its shipment, through the shipment form (started from the application's page).
    page.get_by_role("link", name="New shipment under it").click()
    page.get_by_label("Our reference").fill("GZ-SHP-077")
    page.get_by_label("Controlled item").select_option(label="MOFCOM · 1C902 samarium (kg)")
    page.get_by_label("Quantity").fill("100")
    page.get_by_label("Value").fill("24000")
    page.get_by_label("Consignee").select_option(label=f"{consignee.name} (DE) · {ganzhou.name}")
    page.get_by_label("Planned ship date").fill(
        (timezone.now() + dt.timedelta(days=30)).strftime("%Y-%m-%d")
    )
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Shipment GZ-SHP-077 created.").wait_for()
    page.get_by_role("link", name="GZ-2026-077").first.click()

    # Submit, accept and approve, each dated in the past.
    submitted_at, accepted_at, approved_at = ago(60), ago(55), ago(20)
    record(page, "Submit", submitted_at)
    page.get_by_text("is now submitted").wait_for()
    record(page, "Accept", accepted_at, **{"Authority's case number": "MOFCOM-2026-1234"})
    page.get_by_text("is now accepted").wait_for()
    record(
        page,
        "Approve",
        approved_at,
        **{
            "License number": "LIC-2026-0077",
            "Valid until": (timezone.now() + dt.timedelta(days=300)).strftime("%Y-%m-%d"),
        },
    )
    page.get_by_text("is now approved").wait_for()

    # The timeline tells what happened when, and who recorded it.
    timeline = page.locator("section.timeline")
    for title, moment in (
        ("Submitted", submitted_at),
        ("Accepted by the authority", accepted_at),
        ("Approved", approved_at),
    ):
        entry = timeline.locator("li.event", has=page.get_by_text(title, exact=True))
        assert local_input(moment).replace("T", " ") in entry.locator("time").inner_text()
        assert "by olga_officer" in entry.inner_text()
    assert "License number: LIC-2026-0077" in timeline.inner_text()

    # The shipment followed its application.
    page.get_by_role("link", name="GZ-SHP-077").click()
    assert page.locator("h1 .status").inner_text() == "cleared"
    assert problems.console == [] and problems.page_errors == []
    assert problems.csp(page) == []


def build_dashboard_world(exporter):
    """An overdue application with a shipment waiting on it, a shipment at risk, approvals in
    past months (for the approval-time chart) and flags raised and cleared (open flags)."""
    now = timezone.now()
    consignee = ConsigneeFactory(exporter=exporter, country="DE")

    def shipment(reference, application, ship_in_days):
        return shipping.shipment_create(
            now=now,
            actor=None,
            exporter=exporter,
            reference=reference,
            item=item("1C902"),
            quantity=Decimal("100"),
            value=Decimal("24000"),
            currency="USD",
            destination="DE",
            consignee=consignee,
            planned_ship_date=(now + dt.timedelta(days=ship_in_days)).date(),
            application=application,
        )

    late = ApplicationFactory(exporter=exporter, reference="GZ-LATE-APP")
    shipment("GZ-LATE-SHP", late, 10)
    services.application_submit(application=late, at=ago(120), now=now, actor=None)

    risky = ApplicationFactory(exporter=exporter, reference="GZ-RISK-APP")
    shipment("GZ-RISK-SHP", risky, 3)
    services.application_submit(application=risky, at=ago(12), now=now, actor=None)
    services.application_accept(application=risky, at=ago(10), now=now, actor=None)

    for n, (submitted, decided) in enumerate([(200, 150), (160, 100), (130, 90), (70, 30)]):
        approve(exporter, f"GZ-DONE-{n}", submitted, decided)
    from monitoring.models import Flag

    open_flag(application=late, exporter=exporter, kind="overdue", raised_at=ago(60))
    Flag.objects.create(
        application=risky,
        exporter=exporter,
        kind="due_soon",
        raised_at=ago(40),
        cleared_at=ago(20),
    )


def test_the_dashboard_shows_overdue_shipments_and_its_charts(
    page, sign_in, officer, ganzhou, problems
):
    build_dashboard_world(ganzhou)
    sign_in(officer)
    page.goto("/")
    overdue = page.locator("section", has=page.get_by_role("heading", name="Overdue applications"))
    row = overdue.locator("tr", has=page.get_by_role("link", name="GZ-LATE-APP"))
    assert row.get_by_role("link", name="GZ-LATE-SHP").is_visible()
    assert int(row.locator("td.num").inner_text()) > 30
    at_risk = page.locator("section", has=page.get_by_role("heading", name="Shipments at risk"))
    assert at_risk.get_by_role("link", name="GZ-RISK-SHP").is_visible()
    charts = page.locator("figure.chart svg.chart-svg")
    # what MOFCOM actually takes (survival), approval time at MOFCOM, open flags over time
    assert charts.count() == 3
    assert page.locator("#survival-mofcom polyline").count() == 1
    assert page.locator("#approval-mofcom polyline").count() == 2  # median and 90th percentile
    assert page.locator("#open-flags .series-overdue polyline").count() == 1
    assert charts.first.bounding_box()["width"] > 300
    assert problems.console == [] and problems.page_errors == []
    assert problems.csp(page) == []


MAIN_PAGES = [
    "/",
    "/shipments/",
    "/shipments/?status=open&sort=-due",
    "/shipments/{shipment}/",
    "/shipments/new/",
    "/applications/",
    "/applications/{application}/",
    "/applications/new/",
    "/exporters/",
    "/exporters/{exporter}/",
    "/consignees/",
    "/fast-track/",
    "/password/change/",
    "/admin/",
    "/admin/licenses/licenseapplication/",
    "/admin/licenses/licenseapplication/{application}/change/",
    "/admin/shipments/shipment/add/",
    "/api/docs/",
]


def test_the_main_pages_have_no_console_errors_and_no_csp_violations(
    page, sign_in, superuser, world, problems, settings, live_server
):
    settings.ROOT_URLCONF = "tests.web.browser.docs_urls"
    page.goto("/login/")  # signed out: the sign-in page, its first field focused
    assert page.evaluate("document.activeElement.name") == "username"
    failures = {}
    if problems.console + problems.page_errors + problems.csp(page):
        failures["/login/"] = problems.console + problems.page_errors + problems.csp(page)
    sign_in(superuser)

    # The keyboard: the first Tab reaches the skip link, which jumps to the content.
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    for template in MAIN_PAGES:
        url = template.format(
            shipment=world.mine.shipment.pk,
            application=world.mine.application.pk,
            exporter=world.mine.exporter.pk,
        )
        response = page.goto(url)
        if url == "/api/docs/":
            page.locator(".swagger-ui .info").wait_for()
        else:
            page.wait_for_load_state("load")
        found = problems.console + problems.page_errors + problems.csp(page)
        if response.status != 200 or found:
            failures[url] = (response.status, found)
        problems.console.clear()
        problems.page_errors.clear()
    assert failures == {}

    # A phone: nothing wider than the screen (wide tables scroll inside their own box).
    page.set_viewport_size({"width": 390, "height": 844})
    for url in (
        "/",
        "/shipments/",
        f"/applications/{world.mine.application.pk}/",
        "/shipments/new/",
    ):
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (url, overflow)
    page.set_viewport_size({"width": 1280, "height": 900})

    # The control: an inline script (drf-spectacular's unsplit swagger view) is refused, and
    # the listener sees it.
    page.goto("/api/docs-inline/")
    page.wait_for_load_state("load")
    assert any(v.startswith("script-src") for v in problems.csp(page))
