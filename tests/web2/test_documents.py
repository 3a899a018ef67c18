"""Documents on the application page: officers upload (size limit and content checked, the
refusal said on the form), everyone who may see the application downloads it as an attachment
with `nosniff`, and nobody else learns it exists (404)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from licenses.models import Document

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload(client, application, name: str, content: bytes, kind: str = "end_user_certificate"):
    return client.post(
        f"/applications/{application.pk}/documents/",
        {"kind": kind, "file": SimpleUploadedFile(name, content)},
    )


def test_an_officer_attaches_a_pdf_and_sees_it_listed_with_a_download_link(client, officer, world):
    client.force_login(officer)
    application = world.mine.application
    response = upload(client, application, "../../etc/End User Cert.pdf", PDF)
    assert response.status_code == 302
    document = Document.objects.get(application=application)
    assert document.filename == "End_User_Cert.pdf"
    page = client.get(response["Location"]).content.decode()
    assert "End_User_Cert.pdf attached to GZ-APP-1." in page
    assert f'href="/documents/{document.pk}/download/"' in page
    assert "end-user certificate" in page


def test_the_application_page_states_the_limits_and_offers_the_form_to_officers_only(
    client, officer, viewer, world, settings
):
    settings.DOCUMENT_MAX_BYTES = 5 * 1024 * 1024
    url = f"/applications/{world.mine.application.pk}/"
    client.force_login(officer)
    page = client.get(url).content.decode()
    assert "Attach a document" in page
    assert "at most 5 MB" in page
    assert 'enctype="multipart/form-data"' in page
    client.force_login(viewer)
    assert "Attach a document" not in client.get(url).content.decode()


def test_a_file_over_the_size_limit_is_refused_on_its_field_and_nothing_is_stored(
    client, officer, world, settings, media_root
):
    settings.DOCUMENT_MAX_BYTES = 1024
    client.force_login(officer)
    response = upload(client, world.mine.application, "big.pdf", PDF + b"0" * 5000)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Larger than 1 KB: not accepted." in page
    assert "The document was not attached" in page
    assert not Document.objects.exists()
    assert not media_root.exists() or not any(media_root.rglob("*.pdf"))


def test_a_file_exactly_at_the_limit_is_accepted(client, officer, world, settings):
    settings.DOCUMENT_MAX_BYTES = len(PDF)
    client.force_login(officer)
    assert upload(client, world.mine.application, "exact.pdf", PDF).status_code == 302


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("invoice.pdf", b"MZ\x90\x00 an executable renamed", "Content does not match a PDF."),
        ("contract.docx", b"PK\x03\x04 not a word document", "Content does not match a Word"),
        ("tool.exe", b"MZ\x90\x00", "Not an accepted type"),
        ("empty.pdf", b"", "The submitted file is empty."),
        ("photo.png", PDF, "Content does not match a PNG image."),
    ],
)
def test_a_file_whose_content_is_not_what_its_name_says_is_refused(
    client, officer, world, name, content, message
):
    client.force_login(officer)
    response = upload(client, world.mine.application, name, content)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Document.objects.exists()


def test_a_kind_is_required_and_must_be_one_of_ours(client, officer, world):
    client.force_login(officer)
    response = upload(client, world.mine.application, "c.pdf", PDF, kind="passport")
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_the_download_is_an_attachment_that_browsers_do_not_sniff(client, officer, viewer, world):
    client.force_login(officer)
    upload(client, world.mine.application, "cert.pdf", PDF)
    document = Document.objects.get()
    client.force_login(viewer)
    response = client.get(f"/documents/{document.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="cert.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_limited_user_gets_404_for_another_exporters_document_and_cannot_upload_to_it(
    client, officer, outsider, limited, world
):
    client.force_login(officer)
    upload(client, world.mine.application, "cert.pdf", PDF)
    document = Document.objects.get()
    client.force_login(outsider)
    assert client.get(f"/documents/{document.pk}/download/").status_code == 404
    assert upload(client, world.mine.application, "x.pdf", PDF).status_code == 404
    assert Document.objects.count() == 1
    client.force_login(limited)
    assert client.get(f"/documents/{document.pk}/download/").status_code == 200


def test_viewers_may_not_upload(client, viewer, world):
    client.force_login(viewer)
    assert upload(client, world.mine.application, "cert.pdf", PDF).status_code == 403
    assert not Document.objects.exists()


def test_an_upload_without_a_csrf_token_is_refused(officer, world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    assert upload(client, world.mine.application, "cert.pdf", PDF).status_code == 403
    assert not Document.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    response = client.get(f"/applications/{world.mine.application.pk}/documents/")
    assert response.status_code == 302 and "/login/" in response["Location"]
