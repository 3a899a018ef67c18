"""Documents: size limit, content checked against the declared type, safe names, safe serving."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import InvalidInput
from licenses.documents import clean_filename, document_attach, document_response

from ..factories import ApplicationFactory
from ..helpers import NOW

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "documents"
    settings.DOCUMENT_MAX_BYTES = 1024 * 1024


def attach(name: str, content: bytes, kind: str = "contract", app=None):
    return document_attach(
        application=app or ApplicationFactory(),
        kind=kind,
        upload=SimpleUploadedFile(name, content),
        actor=None,
        now=NOW,
    )


@pytest.mark.parametrize(
    "name,content",
    [
        ("eu-cert.pdf", PDF),
        ("spec.docx", docx_bytes()),
        ("photo.PNG", b"\x89PNG\r\n\x1a\n" + b"0" * 40),
        ("line.jpg", b"\xff\xd8\xff\xe0" + b"0" * 40),
        ("notes.txt", "终端用户声明 end use".encode()),
    ],
)
def test_accepted_files_are_stored_with_an_event(name, content):
    document = attach(name, content)
    assert document.size == len(content)
    assert document.file.read() == content
    assert document.application.events.filter(kind="document_added").exists()
    # stored under a random name, never the uploaded one
    assert name.split(".")[0] not in document.file.name


@pytest.mark.parametrize(
    "name,content,why",
    [
        ("invoice.pdf", b"MZ\x90\x00 this is an exe", "Content does not match"),
        ("spec.docx", b"PK\x03\x04 not really a zip", "Content does not match"),
        ("run.exe", b"MZ", "Not an accepted type"),
        ("empty.pdf", b"", "empty"),
        ("big.pdf", PDF + b"0" * (1024 * 1024), "Larger than"),
        ("bin.txt", b"abc\x00def", "Content does not match"),
    ],
)
def test_bad_files_are_refused_with_a_clear_error(name, content, why):
    app = ApplicationFactory()
    with pytest.raises(InvalidInput) as exc:
        attach(name, content, app=app)
    assert why in exc.value.fields["file"]
    assert not app.documents.exists()


@pytest.mark.parametrize(
    "raw,clean",
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\x\\合同 final.pdf", "合同_final.pdf"),
        ("..pdf", "pdf.pdf"),
        ("...", "document.pdf"),
        ("a\x00b.pdf", "ab.pdf"),
        ('"><script>.pdf', "script.pdf"),
    ],
)
def test_file_names_are_sanitised(raw, clean):
    assert clean_filename(raw, "pdf") == clean


def test_a_download_is_an_attachment_that_is_not_sniffed():
    document = attach("eu-cert.pdf", PDF)
    response = document_response(document)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="eu-cert.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF
