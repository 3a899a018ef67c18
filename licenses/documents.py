"""Documents attached to applications: checked on the way in, served only as attachments.

A file is accepted when it is within the size limit, its extension is one we take, and its
first bytes are what that type must start with (a renamed executable is refused). The stored
name on disk is random; the sanitised original name is kept for the download. Files live
under MEDIA_ROOT, outside the web root, and are only ever served by a view that checks who is
asking (see `document_response`).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import FileResponse
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import InvalidInput

from . import events
from .models import Document, LicenseApplication


@dataclass(frozen=True)
class FileType:
    extension: str
    content_type: str
    label: Any  # a lazily translated name of the type


FILE_TYPES = {
    ft.extension: ft
    for ft in [
        FileType("pdf", "application/pdf", gettext_lazy("PDF")),
        FileType("png", "image/png", gettext_lazy("PNG image")),
        FileType("jpg", "image/jpeg", gettext_lazy("JPEG image")),
        FileType("jpeg", "image/jpeg", gettext_lazy("JPEG image")),
        FileType(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            gettext_lazy("Word document"),
        ),
        FileType("txt", "text/plain", gettext_lazy("plain text")),
    ]
}


def max_bytes() -> int:
    return int(getattr(settings, "DOCUMENT_MAX_BYTES", 10 * 1024 * 1024))


def _looks_like(extension: str, head: bytes, upload: UploadedFile) -> bool:
    """Does the content match the declared type?"""
    if extension == "pdf":
        return head.startswith(b"%PDF-")
    if extension == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if extension in ("jpg", "jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if extension == "docx":
        if not head.startswith(b"PK\x03\x04"):
            return False
        upload.seek(0)
        try:
            with zipfile.ZipFile(upload) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return False
        return "[Content_Types].xml" in names and any(n.startswith("word/") for n in names)
    if extension == "txt":
        upload.seek(0)
        sample = upload.read(64 * 1024)
        if b"\x00" in sample:
            return False
        try:
            sample.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut at the end of the sample is still text.
            return exc.start >= len(sample) - 3
        return True
    return False


def clean_filename(name: str, extension: str) -> str:
    """Strip any path, keep a safe stem and the checked extension, at most 120 characters."""
    base = os.path.basename(name.replace("\\", "/")).replace("\x00", "")
    stem = os.path.splitext(base)[0]
    try:
        stem = get_valid_filename(stem)
    except Exception:  # Django raises SuspiciousFileOperation for names like ".."
        stem = ""
    stem = stem.strip("._-")[:100] or "document"
    return f"{stem}.{extension}"


def document_attach(
    *,
    application: LicenseApplication,
    kind: str,
    upload: UploadedFile,
    actor: Any,
    now: dt.datetime,
) -> Document:
    """Check and store an upload; refused with a clear error naming the `file` field."""
    if kind not in Document.Kind.values:
        raise InvalidInput(_("Unknown document kind."), fields={"kind": _("Choose a kind.")})
    name = upload.name or ""
    extension = os.path.splitext(name)[1].lower().lstrip(".")
    if extension not in FILE_TYPES:
        allowed = ", ".join(sorted({f".{e}" for e in FILE_TYPES}))
        raise InvalidInput(
            _("This type of file is not accepted; use %(allowed)s.") % {"allowed": allowed},
            fields={"file": _("Not an accepted type (%(allowed)s).") % {"allowed": allowed}},
        )
    size = upload.size or 0
    if size == 0:
        raise InvalidInput(_("The file is empty."), fields={"file": _("The file is empty.")})
    limit = max_bytes()
    if size > limit:
        raise InvalidInput(
            _("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)},
            fields={"file": _("Larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)}},
        )
    upload.seek(0)
    head = upload.read(16)
    if not _looks_like(extension, head, upload):
        label = FILE_TYPES[extension].label
        raise InvalidInput(
            _("The file's content is not a %(label)s, although its name says so.")
            % {"label": label},
            fields={"file": _("Content does not match a %(label)s.") % {"label": label}},
        )
    upload.seek(0)
    filename = clean_filename(name, extension)
    with transaction.atomic():
        document = Document(
            application=application,
            kind=kind,
            filename=filename,
            content_type=FILE_TYPES[extension].content_type,
            size=size,
            uploaded_by=actor,
        )
        stored_name = f"applications/{application.pk}/{uuid.uuid4().hex}.{extension}"
        document.file.save(stored_name, upload, save=False)
        document.save()
        events.document_added(application=application, document=document, now=now, actor=actor)
    return document


def document_response(document: Document) -> FileResponse:
    """Serve a document as a download that browsers will not sniff or render."""
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.filename,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
