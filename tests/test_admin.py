"""The back-office: every page answers the administrator; viewers are kept out; the event log
is read-only even for a superuser; lists are scoped."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from rest_framework.authtoken.models import Token

from licenses.models import CalendarDay, Document, Event, FastTrackDecision, WindowRule
from shipments.models import Alert, AlertPreference, Digest, Flag, ScanSettings

from .factories import ApplicationFactory, ShipmentFactory, authority, item

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_of_everything(administrator, ganzhou):
    now = timezone.now()
    app = ApplicationFactory(exporter=ganzhou)
    shipment = ShipmentFactory(exporter=ganzhou)
    CalendarDay.objects.create(authority=authority(), date="2026-12-31", kind="holiday", name="x")
    WindowRule.objects.create(authority=authority(), item=item(), window_days=30)
    decision = FastTrackDecision.objects.create(
        authority=authority(),
        announced_on="2026-06-07",
        source="Talks",
        window_days=20,
        effective_from="2026-06-08",
    )
    Document.objects.create(
        application=app,
        kind="contract",
        file="applications/x.pdf",
        filename="x.pdf",
        content_type="application/pdf",
        size=10,
    )
    Event.objects.create(kind="created", application=app, occurred_at=now, recorded_at=now)
    Event.objects.create(kind="created", shipment=shipment, occurred_at=now, recorded_at=now)
    Event.objects.create(
        kind="fast_track_applied", decision=decision, occurred_at=now, recorded_at=now
    )
    flag = Flag.objects.create(application=app, exporter=ganzhou, kind="overdue", raised_at=now)
    Alert.objects.create(flag=flag, recipient="a@example.com", created_at=now, message_id="<x@y>")
    Digest.objects.create(
        user=administrator, local_date="2026-11-29", created_at=now, message_id="<d@y>"
    )
    AlertPreference.objects.create(user=administrator)
    ScanSettings.load()
    Token.objects.create(user=administrator)
    every = IntervalSchedule.objects.create(every=5, period="minutes")
    CrontabSchedule.objects.create(minute="0", hour="*")
    SolarSchedule.objects.create(event="sunrise", latitude=28.8, longitude=114.9)
    ClockedSchedule.objects.create(clocked_time=now)
    PeriodicTask.objects.create(name="demo", task="celery.backend_cleanup", interval=every)
    # django-axes' sign-in records (an administrator unlocks a locked-out user there).
    seen = {"username": "olga_officer", "ip_address": "127.0.0.1", "path_info": "/login/"}
    AccessAttempt.objects.create(**seen, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**seen)
    AccessFailureLog.objects.create(**seen)
    return app


def admin_urls():
    for model in admin.site._registry:
        meta = model._meta
        yield model, f"admin:{meta.app_label}_{meta.model_name}"


def test_every_admin_list_and_change_page_answers_an_administrator(
    client, superuser, one_of_everything
):
    client.force_login(superuser)
    for model, name in admin_urls():
        assert client.get(reverse(f"{name}_changelist")).status_code == 200, name
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"no {name} to open"
        assert client.get(reverse(f"{name}_change", args=[obj.pk])).status_code == 200, name


def test_the_administrator_role_reaches_every_list(client, administrator, one_of_everything):
    client.force_login(administrator)
    for _model, name in admin_urls():
        assert client.get(reverse(f"{name}_changelist")).status_code == 200, name


def test_a_viewer_is_kept_out_of_the_back_office(client, viewer, one_of_everything):
    client.force_login(viewer)
    for _model, name in admin_urls():
        response = client.get(reverse(f"{name}_changelist"))
        assert response.status_code in (302, 403), name
        if response.status_code == 302:
            assert reverse("admin:login") in response["Location"]


def test_an_officer_cannot_edit_reference_data_or_users(client, officer, one_of_everything):
    client.force_login(officer)
    assert client.get(reverse("admin:licenses_authority_add")).status_code == 403
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert client.get(reverse("admin:licenses_windowrule_add")).status_code == 403
    assert client.get(reverse("admin:licenses_licenseapplication_add")).status_code == 200


def test_events_cannot_be_added_changed_or_deleted_even_by_a_superuser(
    client, superuser, one_of_everything
):
    client.force_login(superuser)
    event = Event.objects.first()
    assert client.get(reverse("admin:licenses_event_add")).status_code == 403
    assert client.get(reverse("admin:licenses_event_delete", args=[event.pk])).status_code == 403
    response = client.post(
        reverse("admin:licenses_event_change", args=[event.pk]), {"note": "rewritten"}
    )
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.note == ""


def test_state_fields_are_read_only_in_the_admin(client, superuser, one_of_everything):
    client.force_login(superuser)
    page = client.get(
        reverse("admin:licenses_licenseapplication_change", args=[one_of_everything.pk])
    )
    form = page.context["adminform"].form
    assert "status" not in form.fields
    assert "due_at" not in form.fields


def test_an_admin_list_is_scoped_for_a_limited_user(client, limited, baotou, one_of_everything):
    theirs = ApplicationFactory(exporter=baotou)
    client.force_login(limited)
    page = client.get(reverse("admin:licenses_licenseapplication_changelist"))
    assert page.status_code == 200
    refs = [a.reference for a in page.context["cl"].result_list]
    assert one_of_everything.reference in refs
    assert theirs.reference not in refs
    assert (
        client.get(
            reverse("admin:licenses_licenseapplication_change", args=[theirs.pk])
        ).status_code
        == 302
    )  # Django admin redirects an unknown object to the index
