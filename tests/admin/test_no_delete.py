"""No delete button or action in the back-office for what is never deleted: the records the
event log and the services keep (closed, withdrawn, retired, revoked or deactivated instead),
the reference data others point at, and the outbox. Only an added calendar day may go (its
service recomputes the due dates)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import RequestFactory

from licenses.models import (
    Authority,
    CalendarDay,
    ControlledItem,
    Document,
    Event,
    Exporter,
    FastTrackDecision,
    LicenseApplication,
    Measure,
    WindowRule,
)
from monitoring.models import (
    Alert,
    AlertPreference,
    Digest,
    Flag,
    PasswordResetRequest,
    ScanSettings,
)
from shipments.models import Consignee, Shipment

from ..factories import ApplicationFactory

pytestmark = pytest.mark.django_db

NEVER_DELETED = [
    Authority,
    ControlledItem,
    Document,
    Event,
    Exporter,
    FastTrackDecision,
    LicenseApplication,
    Measure,
    WindowRule,
    Alert,
    AlertPreference,
    Digest,
    Flag,
    PasswordResetRequest,
    ScanSettings,
    Consignee,
    Shipment,
    User,
]


@pytest.mark.parametrize("model", NEVER_DELETED, ids=lambda m: m.__name__)
def test_a_superuser_gets_no_delete_permission_for(model, superuser):
    request = RequestFactory().get("/")
    request.user = superuser
    model_admin = admin.site._registry[model]
    assert model_admin.has_delete_permission(request) is False
    assert "delete_selected" not in model_admin.get_actions(request)


def test_an_added_calendar_day_may_still_be_deleted(superuser):
    request = RequestFactory().get("/")
    request.user = superuser
    assert admin.site._registry[CalendarDay].has_delete_permission(request) is True


def test_the_application_change_page_has_no_delete_link(client, superuser, ganzhou):
    app = ApplicationFactory(exporter=ganzhou)
    client.force_login(superuser)
    page = client.get(f"/admin/licenses/licenseapplication/{app.pk}/change/").content.decode()
    assert "deletelink" not in page
    assert client.get(f"/admin/licenses/licenseapplication/{app.pk}/delete/").status_code == 403
