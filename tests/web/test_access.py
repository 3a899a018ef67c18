"""Every page honours roles and exporter limits: viewers read, officers and managers also
write and move, a user limited to some exporters gets 404 for anything else's, and anonymous
visitors are sent to sign in and then back."""

from __future__ import annotations

from urllib.parse import quote

import pytest

pytestmark = pytest.mark.django_db

# (url template, kind). Kinds: "read" list/read pages; "object" a read page of Ganzhou's;
# "write" a create page; "write-object" an edit/move page of Ganzhou's; "new-exporter".
PAGES = [
    ("/", "read"),
    ("/shipments/", "read"),
    ("/shipments/export.csv", "read"),
    ("/shipments/new/", "write"),
    ("/shipments/{shipment}/", "object"),
    ("/shipments/{shipment}/edit/", "write-object"),
    ("/shipments/{shipment}/hold/", "write-object"),
    ("/shipments/{shipment}/correct/", "write-object"),
    ("/applications/", "read"),
    ("/applications/export.csv", "read"),
    ("/applications/new/", "write"),
    ("/applications/{application}/", "object"),
    ("/applications/{application}/edit/", "write-object"),
    ("/applications/{application}/accept/", "write-object"),
    ("/applications/{application}/correct/", "write-object"),
    ("/exporters/", "read"),
    ("/exporters/export.csv", "read"),
    ("/exporters/new/", "new-exporter"),
    ("/exporters/{exporter}/", "object"),
    ("/exporters/{exporter}/edit/", "write-object"),
    ("/consignees/", "read"),
    ("/consignees/export.csv", "read"),
    ("/consignees/new/", "write"),
    ("/consignees/{consignee}/", "object"),
    ("/consignees/{consignee}/edit/", "write-object"),
    ("/fast-track/", "read"),
]

EXPECTED = {
    # role: {kind: status}
    "viewer": {"read": 200, "object": 200, "write": 403, "write-object": 403, "new-exporter": 403},
    "officer": {"read": 200, "object": 200, "write": 200, "write-object": 200, "new-exporter": 200},
    "manager": {"read": 200, "object": 200, "write": 200, "write-object": 200, "new-exporter": 200},
    "limited": {"read": 200, "object": 200, "write": 200, "write-object": 200, "new-exporter": 403},
    "outsider": {
        "read": 200,
        "object": 404,
        "write": 200,
        "write-object": 404,
        "new-exporter": 403,
    },
    "nobody": {"read": 403, "object": 403, "write": 403, "write-object": 403, "new-exporter": 403},
}


def url_for(template: str, world) -> str:
    side = world.mine
    return template.format(
        shipment=side.shipment.pk,
        application=side.application.pk,
        exporter=side.exporter.pk,
        consignee=side.consignee.pk,
    )


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_every_page_answers_each_role_as_its_permissions_and_limits_say(
    role, request, client, world
):
    client.force_login(request.getfixturevalue(role))
    wrong = []
    for template, kind in PAGES:
        url = url_for(template, world)
        response = client.get(url)
        if response.status_code != EXPECTED[role][kind]:
            wrong.append((url, kind, response.status_code))
    assert wrong == []


def test_anonymous_visitors_are_sent_to_sign_in_and_then_back(client, world):
    for template, _kind in PAGES:
        url = url_for(template, world)
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"/login/?next={quote(url)}", url
