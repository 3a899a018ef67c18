"""`config.auth.UserBackend`: what a request reads to know its user, in fewer queries, with
the same answers as Django's ModelBackend."""

from __future__ import annotations

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, get_user
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from config.auth import UserBackend
from config.middleware import saved_settings
from licenses import roles
from licenses.selectors import visible_exporter_ids
from monitoring.models import AlertPreference

from ..conftest import make_user

pytestmark = pytest.mark.django_db


def fresh(user):
    return type(user).objects.get(pk=user.pk)  # no permission cached on it


def test_the_permissions_are_model_backends_in_one_query(officer, viewer, limited, superuser):
    own = make_user("own-perms", None)
    own.user_permissions.add(Permission.objects.get(codename="view_shipment"))
    both = make_user("both-perms", roles.VIEWER)
    both.user_permissions.add(Permission.objects.get(codename="add_shipment"))
    empty = make_user("no-perms", None)
    for user in (officer, viewer, limited, superuser, own, both, empty):
        expected = ModelBackend().get_all_permissions(fresh(user))
        user = fresh(user)
        with CaptureQueriesContext(connection) as queries:
            got = UserBackend().get_all_permissions(user)
            assert user.has_perm("shipments.view_shipment") == (
                "shipments.view_shipment" in expected
            )
            user.has_perm("no_such_app.no_such_permission")  # every backend asked: no query
        assert got == expected, user.username
        assert len(queries) == 1, user.username
    assert len(UserBackend().get_all_permissions(fresh(superuser))) == Permission.objects.count()
    assert "shipments.add_shipment" in UserBackend().get_all_permissions(fresh(both))
    assert "shipments.view_shipment" in UserBackend().get_all_permissions(fresh(own))


def test_an_inactive_user_has_no_permission(officer):
    officer.is_active = False
    officer.save()
    assert UserBackend().get_all_permissions(fresh(officer)) == set()
    assert not fresh(officer).has_perm("shipments.view_shipment")


def test_a_signed_in_user_comes_with_profile_and_saved_settings_in_one_query(limited, ganzhou):
    AlertPreference.objects.create(user=limited, time_zone="Asia/Shanghai", language="zh-hans")
    with CaptureQueriesContext(connection) as queries:
        user = UserBackend().get_user(limited.pk)
        assert visible_exporter_ids(user) is not None  # the profile: limited
        assert saved_settings(user) == ("Asia/Shanghai", "zh-hans")
    # the user with profile and settings; then the exporters the profile lists
    assert len(queries) == 2
    assert visible_exporter_ids(user) == frozenset({ganzhou.pk})


def test_a_user_without_profile_or_settings_costs_no_more_queries(officer):
    with CaptureQueriesContext(connection) as queries:
        user = UserBackend().get_user(officer.pk)
        assert visible_exporter_ids(user) is None
        assert saved_settings(user) == ("", "")
    assert len(queries) == 1


def test_signing_in_records_user_backend_and_a_session_of_model_backend_still_works(officer):
    officer.set_password("a long enough password")
    officer.save()
    client = Client()
    response = client.post(
        "/login/", {"username": officer.username, "password": "a long enough password"}
    )
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == "config.auth.UserBackend"
    assert client.get("/shipments/").status_code == 200
    # a session begun before UserBackend was named (ModelBackend's name in it)
    older = Client()
    older.force_login(officer, backend="django.contrib.auth.backends.ModelBackend")
    assert older.get("/shipments/").status_code == 200
    request = RequestFactory().get("/")
    request.session = older.session
    assert get_user(request) == officer


def test_a_token_brings_its_user_and_profile_in_one_query(limited):
    token = Token.objects.create(user=limited)
    from core.api.authentication import ThrottledTokenAuthentication

    with CaptureQueriesContext(connection) as queries:
        user, _ = ThrottledTokenAuthentication().authenticate_credentials(token.key)
        assert user.profile.limited_to_exporters
    assert len(queries) == 1


def test_a_removed_group_takes_its_permissions_away(viewer):
    assert fresh(viewer).has_perm("shipments.view_shipment")
    viewer.groups.remove(Group.objects.get(name=roles.VIEWER))
    assert not fresh(viewer).has_perm("shipments.view_shipment")
