"""`/api/v1/applications/{id}/documents/`: list and upload (multipart), each document's
download as an attachment with `nosniff`; the API's error body, permissions and exporter
limits; the same size and content checks as the pages."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from licenses.models import Document

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def url(application) -> str:
    return f"/api/v1/applications/{application.pk}/documents/"


def upload(client, application, name="EUC.pdf", content=PDF, kind="end_user_certificate"):
    return client.post(
        url(application),
        {"kind": kind, "file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


def test_an_officer_uploads_a_document_and_reads_it_back(api, officer, world):
    client = api(officer)
    response = upload(client, world.mine.application, name="../End User.pdf")
    assert response.status_code == 201, response.json()
    body = response.json()
    document = Document.objects.get()
    assert body["id"] == document.pk and body["application"] == world.mine.application.pk
    assert body["kind"] == "end_user_certificate" and body["filename"] == "End_User.pdf"
    assert body["content_type"] == "application/pdf" and body["size"] == len(PDF)
    assert body["uploaded_by"] == "olga_officer" and "file" not in body
    assert body["download"].endswith(f"{url(world.mine.application)}{document.pk}/download/")
    listed = client.get(url(world.mine.application)).json()
    assert set(listed) == {"next", "previous", "results"}
    assert [d["id"] for d in listed["results"]] == [document.pk]
    assert client.get(f"{url(world.mine.application)}{document.pk}/").json()["id"] == document.pk


def test_the_download_is_an_attachment_browsers_do_not_sniff(api, officer, viewer, world):
    upload(api(officer), world.mine.application)
    document = Document.objects.get()
    response = api(viewer).get(
        f"{url(world.mine.application)}{document.pk}/download/", HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="EUC.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("invoice.pdf", b"MZ\x90\x00 renamed executable", "Content does not match a PDF."),
        ("tool.exe", b"MZ\x90\x00", "Not an accepted type"),
        ("big.pdf", PDF + b"0" * 4096, "Larger than 2 KB."),
    ],
)
def test_a_bad_file_answers_400_naming_the_file_field(
    api, officer, world, settings, name, content, message
):
    settings.DOCUMENT_MAX_BYTES = 2048
    response = upload(api(officer), world.mine.application, name=name, content=content)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and message in body["fields"]["file"]
    assert not Document.objects.exists()


def test_an_unknown_kind_or_field_answers_400(api, officer, world):
    client = api(officer)
    response = upload(client, world.mine.application, kind="passport")
    assert response.status_code == 400 and "kind" in response.json()["fields"]
    response = client.post(
        url(world.mine.application),
        {"kind": "contract", "file": SimpleUploadedFile("c.pdf", PDF), "secret": "x"},
        format="multipart",
    )
    assert response.status_code == 400 and "secret" in response.json()["fields"]


def test_json_is_not_an_upload(api, officer, world):
    response = api(officer).post(url(world.mine.application), {"kind": "contract"}, format="json")
    assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"


def test_viewers_may_not_upload_and_anonymous_callers_are_refused(api, viewer, world):
    response = upload(api(viewer), world.mine.application)
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert api().get(url(world.mine.application)).status_code == 401


def test_another_exporters_application_and_documents_are_not_found(api, officer, outsider, world):
    upload(api(officer), world.mine.application)
    document = Document.objects.get()
    client = api(outsider)
    assert client.get(url(world.mine.application)).status_code == 404
    assert upload(client, world.mine.application).status_code == 404
    for path in (f"{document.pk}/", f"{document.pk}/download/"):
        response = client.get(url(world.mine.application) + path)
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    # Nor through one's own application.
    theirs = url(world.theirs.application)
    assert client.get(f"{theirs}{document.pk}/download/").status_code == 404
    assert Document.objects.count() == 1


def test_the_schema_describes_the_documents_endpoint(api, officer):
    schema = api(officer).get("/api/schema/?format=json").json()
    paths = schema["paths"]
    upload_op = paths["/api/v1/applications/{application_pk}/documents/"]["post"]
    assert "multipart/form-data" in upload_op["requestBody"]["content"]
    assert {"201", "400", "403", "404", "415"} <= set(upload_op["responses"])
    download = paths["/api/v1/applications/{application_pk}/documents/{id}/download/"]["get"]
    assert "application/octet-stream" in download["responses"]["200"]["content"]
