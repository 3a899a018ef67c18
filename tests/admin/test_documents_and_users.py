"""Documents are attached in the back-office through `document_attach` (the same checks and
event as the application page) and never rewritten there; users are deactivated through a
service that refuses to lock the acting administrator out."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from licenses.models import Document, EventKind

from ..factories import ApplicationFactory
from .forms import field_errors, page_messages, post_action, post_add

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "documents"


def pdf(name="contract.pdf", content=b"%PDF-1.4\n% a contract\n"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


class TestDocuments:
    def test_a_document_attached_in_the_admin_is_checked_and_recorded_by_the_service(
        self, client, officer
    ):
        app = ApplicationFactory()
        client.force_login(officer)
        response = post_add(client, Document, application=app.pk, kind="contract", file=pdf())
        assert response.status_code == 302
        document = app.documents.get()
        assert document.filename == "contract.pdf" and document.uploaded_by == officer
        assert document.content_type == "application/pdf"
        event = app.events.get(kind=EventKind.DOCUMENT_ADDED)
        assert event.data["document"] == document.pk and event.actor == officer

    def test_a_file_whose_content_is_not_what_its_name_says_is_refused_on_the_field(
        self, client, officer
    ):
        app = ApplicationFactory()
        client.force_login(officer)
        page = post_add(
            client, Document, application=app.pk, kind="contract", file=pdf(content=b"MZ\x90")
        )
        assert field_errors(page, "file") == ["Content does not match a PDF."]
        assert not Document.objects.exists()
        assert not app.events.exists()

    def test_a_limited_user_cannot_attach_to_another_exporters_application(
        self, client, limited, baotou
    ):
        theirs = ApplicationFactory(exporter=baotou)
        client.force_login(limited)
        page = post_add(client, Document, application=theirs.pk, kind="contract", file=pdf())
        assert field_errors(page, "application")
        assert not Document.objects.exists()

    def test_an_attached_document_cannot_be_rewritten_even_by_a_superuser(
        self, client, superuser, officer
    ):
        app = ApplicationFactory()
        client.force_login(officer)
        post_add(client, Document, application=app.pk, kind="contract", file=pdf())
        document = app.documents.get()
        client.force_login(superuser)
        url = reverse("admin:licenses_document_change", args=[document.pk])
        assert client.get(url).status_code == 200  # to read
        response = client.post(url, {"application": app.pk, "kind": "other", "file": pdf("x.pdf")})
        assert response.status_code == 403
        document.refresh_from_db()
        assert document.kind == "contract" and document.filename == "contract.pdf"


class TestUsers:
    def test_deactivating_users_from_the_list(self, client, administrator, viewer):
        client.force_login(administrator)
        page = post_action(client, get_user_model(), "deactivate", [viewer])
        assert "1 users deactivated." in page_messages(page)
        viewer.refresh_from_db()
        assert not viewer.is_active

    def test_an_administrator_cannot_deactivate_their_own_account(
        self, client, administrator, viewer
    ):
        client.force_login(administrator)
        page = post_action(client, get_user_model(), "deactivate", [viewer, administrator])
        assert "You cannot deactivate your own account." in page_messages(page)
        viewer.refresh_from_db()
        administrator.refresh_from_db()
        assert viewer.is_active and administrator.is_active
