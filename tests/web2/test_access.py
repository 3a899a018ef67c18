"""The pages of Web forms II answer each role as its permissions and exporter limits say:
viewers read, officers also import and attach, a user limited to some exporters gets 404 for
another exporter's documents, and anonymous visitors are sent to sign in."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from licenses.documents import document_attach

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n%%EOF\n"

# url template → expected status per role
PAGES = {
    "/shipments/import/": {"viewer": 403, "officer": 200, "manager": 200, "limited": 200,
                           "outsider": 200, "nobody": 403},
    "/shipments/import/template.csv": {"viewer": 403, "officer": 200, "manager": 200,
                                       "limited": 200, "outsider": 200, "nobody": 403},
    "/applications/{application}/documents/": {"viewer": 403, "officer": 302, "manager": 302,
                                               "limited": 302, "outsider": 404, "nobody": 403},
    "/documents/{document}/download/": {"viewer": 200, "officer": 200, "manager": 200,
                                        "limited": 200, "outsider": 404, "nobody": 403},
    "/settings/alerts/": {"viewer": 200, "officer": 200, "manager": 200, "limited": 200,
                          "outsider": 200, "nobody": 200},
}  # fmt: skip
ROLES = ["viewer", "officer", "manager", "limited", "outsider", "nobody"]


@pytest.fixture
def document(world, media_root):
    from django.utils import timezone

    return document_attach(
        application=world.mine.application,
        kind="contract",
        upload=SimpleUploadedFile("contract.pdf", PDF),
        actor=None,
        now=timezone.now(),
    )


@pytest.mark.parametrize("role", ROLES)
def test_each_new_page_answers_each_role_as_its_permissions_and_limits_say(
    role, request, client, world, document
):
    client.force_login(request.getfixturevalue(role))
    wrong = []
    for template, expected in PAGES.items():
        url = template.format(application=world.mine.application.pk, document=document.pk)
        status = client.get(url).status_code
        if status != expected[role]:
            wrong.append((url, expected[role], status))
    assert wrong == []


def test_anonymous_visitors_are_sent_to_sign_in_from_every_new_page(client, world, document):
    for template in PAGES:
        url = template.format(application=world.mine.application.pk, document=document.pk)
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url
