"""CSV import of shipments from its page: the limits stated, the template downloadable, every
error reported by row and column with nothing imported, and a good file imported whole."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shipments.imports import COLUMNS
from shipments.models import Shipment

pytestmark = pytest.mark.django_db


def csv_file(rows: list[dict[str, str]], name: str = "shipments.csv") -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(), content_type="text/csv")


def row(side, n: int, **overrides: str) -> dict[str, str]:
    return {
        "reference": f"IMP-{n}",
        "exporter_registration_number": side.exporter.registration_number,
        "authority": "MOFCOM",
        "item_code": "1C902",
        "quantity": "10.5",
        "value": "2500.00",
        "currency": "USD",
        "destination": side.application.destination,
        "consignee": side.consignee.name,
        "planned_ship_date": "2026-12-20",
        "application_reference": side.application.reference,
    } | overrides


def post(client, upload):
    return client.post("/shipments/import/", {"file": upload})


def test_the_page_states_the_limits_and_links_the_template(client, officer, settings):
    settings.IMPORT_MAX_ROWS = 500
    settings.IMPORT_MAX_BYTES = 256 * 1024
    client.force_login(officer)
    page = client.get("/shipments/import/").content.decode()
    assert "At most 500 rows and 256 KB per file" in page
    assert 'href="/shipments/import/template.csv"' in page
    for column in COLUMNS:
        assert f"<code>{column}</code>" in page


def test_the_template_is_a_csv_with_every_column(client, officer):
    client.force_login(officer)
    response = client.get("/shipments/import/template.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    header = next(csv.reader(io.StringIO(response.content.decode())))
    assert header == COLUMNS


def test_one_bad_row_is_reported_by_row_and_column_and_nothing_is_imported(client, officer, world):
    client.force_login(officer)
    rows = [
        row(world.mine, 1),
        row(world.mine, 2, quantity="ten", planned_ship_date="20/12/2026"),
        row(world.mine, 3),
    ]
    before = Shipment.objects.count()
    response = post(client, csv_file(rows))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was imported: the file has 2 errors." in page
    report = page.split('class="compact errors"')[1].split("</table>")[0]
    assert "<code>quantity</code>" in report and "Not a number: ten" in report
    assert "<code>planned_ship_date</code>" in report and "Use a date as YYYY-MM-DD." in report
    assert report.count('<th scope="row" class="num">3</th>') == 2
    assert Shipment.objects.count() == before


def test_a_good_file_imports_every_row_and_lists_them(client, officer, world):
    client.force_login(officer)
    rows = [row(world.mine, n, application_reference="") for n in range(1, 4)]
    response = post(client, csv_file(rows))
    assert response.status_code == 200
    page = response.content.decode()
    assert "3 shipments imported." in page
    created = Shipment.objects.filter(reference__startswith="IMP-")
    assert created.count() == 3
    for shipment in created:
        assert f'href="/shipments/{shipment.pk}/"' in page
        assert shipment.application is None and shipment.status == "planned"


def test_a_refusal_of_the_services_is_reported_on_its_row_and_column(client, officer, world):
    # The application is an individual license that already covers the world's shipment.
    client.force_login(officer)
    response = post(client, csv_file([row(world.mine, 1)]))
    assert response.status_code == 200
    report = response.content.decode().split('class="compact errors"')[1]
    assert "<code>application_reference</code>" in report
    assert "already covers a shipment" in report
    assert not Shipment.objects.filter(reference="IMP-1").exists()


def test_a_limited_user_cannot_import_for_another_exporter(client, outsider, world):
    client.force_login(outsider)
    response = post(client, csv_file([row(world.mine, 1)]))
    assert response.status_code == 200
    assert "No exporter you may see has this number." in response.content.decode()
    assert not Shipment.objects.filter(reference="IMP-1").exists()


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(client, officer, world, settings):
    settings.IMPORT_MAX_BYTES = 1024
    client.force_login(officer)
    response = post(client, csv_file([row(world.mine, n) for n in range(1, 30)]))
    assert response.status_code == 200
    assert "Larger than 1 KB: nothing was imported." in response.content.decode()
    assert not Shipment.objects.filter(reference__startswith="IMP-").exists()


def test_too_many_rows_are_refused_with_the_limit(client, officer, world, settings):
    settings.IMPORT_MAX_ROWS = 2
    client.force_login(officer)
    response = post(client, csv_file([row(world.mine, n) for n in range(1, 4)]))
    assert response.status_code == 200
    assert "At most 2 rows per file." in response.content.decode()
    assert not Shipment.objects.filter(reference__startswith="IMP-").exists()


def test_a_file_that_is_not_a_csv_is_refused(client, officer):
    client.force_login(officer)
    upload = SimpleUploadedFile("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    response = post(client, upload)
    assert response.status_code == 200
    assert "neither UTF-8 nor GB18030" in response.content.decode()


def test_viewers_may_neither_import_nor_fetch_the_template(client, viewer):
    client.force_login(viewer)
    assert client.get("/shipments/import/").status_code == 403
    assert client.get("/shipments/import/template.csv").status_code == 403


def upload_of(response, name: str = "shipments-template.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, response.content, content_type="text/csv")


def test_the_template_imports_cleanly_on_a_fresh_demo(client, settings):
    import time_machine
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from tests.helpers import NOW

    settings.DEMO = True
    with time_machine.travel(NOW, tick=False):  # the demo and the views read the clock: pin it
        call_command("demo", stdout=io.StringIO())
        client.force_login(get_user_model().objects.get(username="officer"))
        template = client.get("/shipments/import/template.csv")
        assert template.status_code == 200
        response = post(client, upload_of(template))
    page = response.content.decode()
    assert "1 shipment imported." in page, page.split('class="compact errors"')[-1][:2000]
    shipment = Shipment.objects.get(reference="SHP-TEMPLATE-1")
    assert shipment.status == "planned" and shipment.application is None
    assert shipment.consignee is not None


def test_a_gbk_file_with_chinese_names_imports_from_the_page(client, officer, world):
    from shipments.models import Consignee

    Consignee.objects.filter(pk=world.mine.consignee.pk).update(name="德国磁材有限公司")
    client.force_login(officer)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, delimiter=";")
    writer.writeheader()
    writer.writerow(row(world.mine, 1, consignee="德国磁材有限公司", application_reference=""))
    upload = SimpleUploadedFile(
        "发货.csv", buffer.getvalue().encode("gbk"), content_type="text/csv"
    )
    response = post(client, upload)
    assert "1 shipment imported." in response.content.decode()
    assert Shipment.objects.get(reference="IMP-1").consignee.name == "德国磁材有限公司"
