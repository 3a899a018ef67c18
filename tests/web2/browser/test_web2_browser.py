"""Web forms II in a real browser: a CSV import refused whole for one bad row and then taken
whole; a document uploaded, listed and downloaded, and refused to a user limited to another
exporter; the language switched to Chinese and back."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from licenses.models import Document
from shipments.imports import COLUMNS
from shipments.models import Shipment

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def csv_upload(rows: list[dict[str, str]]) -> dict:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return {"name": "shipments.csv", "mimeType": "text/csv", "buffer": buffer.getvalue().encode()}


def import_row(side, n: int, **overrides: str) -> dict[str, str]:
    return {
        "reference": f"IMP-{n}",
        "exporter_registration_number": side.exporter.registration_number,
        "authority": "MOFCOM",
        "item_code": "1C902",
        "quantity": "12.5",
        "value": "3000.00",
        "currency": "USD",
        "destination": "DE",
        "consignee": side.consignee.name,
        "planned_ship_date": "2027-03-01",
        "application_reference": "",
    } | overrides


def test_a_csv_with_one_bad_row_imports_nothing_then_a_good_one_imports_every_row(
    page, sign_in, officer, world, problems
):
    sign_in(officer)
    page.goto("/shipments/")
    page.get_by_role("link", name="Import from CSV").click()
    assert "At most 2000 rows and 1 MB per file" in page.locator(".limits").inner_text()

    rows = [import_row(world.mine, n) for n in (1, 2, 3)]
    rows[1]["planned_ship_date"] = "1 March"
    page.get_by_label("CSV file").set_input_files(csv_upload(rows))
    page.get_by_role("button", name="Check and import").click()
    page.get_by_text("Nothing was imported: the file has 1 error.").wait_for()
    report = page.locator("table.errors tbody tr")
    assert report.count() == 1
    assert report.first.locator("th").inner_text() == "3"
    assert report.first.locator("td").nth(0).inner_text() == "planned_ship_date"
    assert report.first.locator("td").nth(1).inner_text() == "Use a date as YYYY-MM-DD."
    assert not Shipment.objects.filter(reference__startswith="IMP-").exists()

    rows[1]["planned_ship_date"] = "2027-03-01"
    page.get_by_label("CSV file").set_input_files(csv_upload(rows))
    page.get_by_role("button", name="Check and import").click()
    page.get_by_text("3 shipments imported.").wait_for()
    for n in (1, 2, 3):
        assert page.get_by_role("link", name=f"IMP-{n}").is_visible()
    assert Shipment.objects.filter(reference__startswith="IMP-").count() == 3
    page.get_by_role("link", name="IMP-2").click()
    assert page.locator("h1").inner_text().startswith("Shipment IMP-2")
    assert problems.console == [] and problems.page_errors == [] and problems.csp(page) == []


def test_a_document_is_uploaded_and_downloaded_and_another_exporters_user_is_refused(
    page, sign_in, officer, outsider, world, problems, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "documents"
    sign_in(officer)
    application = world.mine.application
    page.goto(f"/applications/{application.pk}/")
    form = page.locator("form.document-form")
    form.get_by_label("Kind of document").select_option(label="end-user certificate")
    form.get_by_label("File").set_input_files(
        {"name": "EUC Hamburg.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    form.get_by_role("button", name="Upload").click()
    page.get_by_text("EUC_Hamburg.pdf attached to GZ-APP-1.").wait_for()
    row = page.locator("section.documents tbody tr")
    assert "end-user certificate" in row.inner_text()

    with page.expect_download() as download:
        row.get_by_role("link", name="EUC_Hamburg.pdf").click()
    assert download.value.suggested_filename == "EUC_Hamburg.pdf"
    assert Path(download.value.path()).read_bytes() == PDF

    # A renamed executable is refused on its field, and nothing is stored.
    form = page.locator("form.document-form")
    form.get_by_label("File").set_input_files(
        {"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00 exe"}
    )
    form.get_by_role("button", name="Upload").click()
    page.get_by_text("Content does not match a PDF.").wait_for()
    assert Document.objects.count() == 1
    assert problems.console == [] and problems.page_errors == [] and problems.csp(page) == []

    # Someone limited to another exporter: as if the document did not exist.
    document = Document.objects.get()
    page.context.clear_cookies()
    sign_in(outsider)
    response = page.goto(f"/documents/{document.pk}/download/")
    assert response.status == 404
    assert "There is nothing here, or nothing you may see." in page.content()


def test_switching_to_chinese_and_back(page, sign_in, officer, world, problems):
    page.goto("/login/")
    page.get_by_role("button", name="简体中文").click()
    page.get_by_role("button", name="登录").wait_for()
    assert page.locator("html").get_attribute("lang") == "zh-hans"

    sign_in(officer)
    page.goto(f"/applications/{world.mine.application.pk}/")
    assert page.get_by_role("link", name="概览").is_visible()
    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="Application GZ-APP-1").wait_for()
    assert page.get_by_role("button", name="English").get_attribute("aria-pressed") == "true"

    page.get_by_role("button", name="简体中文").click()
    page.get_by_role("heading", name="申请 GZ-APP-1").wait_for()
    assert "逾期" in page.locator(".flags-line").inner_text()
    assert page.get_by_role("link", name="提醒设置").is_visible()
    # The choice is the signed-in user's: stored, so e-mails follow it too.
    from monitoring.models import AlertPreference

    assert AlertPreference.objects.get(user=officer).language == "zh-hans"
    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="Application GZ-APP-1").wait_for()
    assert AlertPreference.objects.get(user=officer).language == "en"

    # The language is also one of the alert settings (which keep the role's defaults).
    page.get_by_role("link", name="Alert settings").click()
    exporters = page.locator(".field", has=page.get_by_role("group", name="Watched exporters"))
    assert "is-disabled" in exporters.get_attribute("class")  # every exporter: boxes dimmed
    page.get_by_label("Only the exporters ticked below").check()
    assert "is-disabled" not in exporters.get_attribute("class")
    page.get_by_label(world.mine.exporter.name).check()
    page.get_by_role("combobox", name="Language").select_option("zh-hans")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("您的提醒设置已保存。").wait_for()
    saved = AlertPreference.objects.get(user=officer)
    assert saved.language == "zh-hans" and not saved.watch_all
    assert list(saved.watched_exporters.all()) == [world.mine.exporter]
    assert problems.console == [] and problems.page_errors == [] and problems.csp(page) == []


def test_a_manager_previews_and_logs_a_decision_and_the_due_dates_move(
    page, sign_in, manager, ganzhou, problems
):
    from licenses.models import LicenseApplication

    from ..test_fast_track import under_review

    app = under_review(ganzhou, "GZ-FT-1")
    before = app.due_at
    sign_in(manager)
    page.goto("/fast-track/")
    page.get_by_role("link", name="Log a decision").click()
    page.get_by_label("Authority").select_option(label="MOFCOM")
    page.get_by_label("Source").fill("Ministerial trade talks, MOFCOM press release")
    page.get_by_label("New review window").fill("20")
    page.get_by_label("Destinations").fill("DE")
    page.get_by_role("button", name="Preview").click()

    preview = page.locator("#preview")
    preview.get_by_text("It would move the due date of 1 of the 1 pending applications").wait_for()
    row = preview.locator("table.preview-sample tbody tr")
    assert row.locator("th").inner_text() == "GZ-FT-1"
    old_day, new_day = row.locator("td").nth(1).inner_text(), row.locator("td").nth(2).inner_text()
    assert new_day < old_day and "days earlier" in row.locator("td").nth(3).inner_text()
    assert not LicenseApplication.objects.filter(pk=app.pk).exclude(due_at=before).exists()

    page.get_by_role("button", name="Log the decision").click()
    page.get_by_text("it moved the due date of 1 pending application").wait_for()
    assert page.locator("h1 .status").inner_text() == "in force"
    page.get_by_role("link", name="GZ-FT-1").click()
    assert new_day in page.locator(".card", has_text="Review clock").inner_text()
    assert "fast-track decision" in page.locator(".card", has_text="Review clock").inner_text()
    assert problems.console == [] and problems.page_errors == [] and problems.csp(page) == []
