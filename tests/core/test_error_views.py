"""What a failed request answers on the web: a friendly page in the visitor's language (400,
403, 404, 500, 503), each saying what happened and what to do, with a link home; and 503 when
the database is out of reach, rendered without it.

The API's side (the error body for 413, 503 and 500) is in tests/api/test_errors.py.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory, override_settings
from django.utils.functional import SimpleLazyObject

from core import error_views

pytestmark = pytest.mark.django_db

ENGLISH, CHINESE = "en", "zh-hans"


def visitor(language: str, *, user=None, **options) -> Client:
    client = Client(raise_request_exception=False, **options)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        client.force_login(user)
    return client


def page(response, status: int, language: str) -> str:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert 'href="/"' in html  # home
    assert "Traceback" not in html
    return html


class Failure(Exception):
    pass


# --- 404 and 403 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "language,words",
    [
        (ENGLISH, ["Not found", "nothing you may see", "Check the address"]),
        (CHINESE, ["未找到", "请检查地址"]),
    ],
)
def test_an_unknown_page_is_a_friendly_404(officer, language, words):
    html = page(visitor(language, user=officer).get("/no-such-page/"), 404, language)
    assert all(word in html for word in words), html
    assert "olga_officer" in html  # the site's header, for a signed-in user


@pytest.mark.parametrize(
    "language,words",
    [
        (ENGLISH, ["Not allowed", "Your role does not allow this"]),
        (CHINESE, ["无权操作", "您的角色无权进行此操作"]),
    ],
)
def test_a_page_the_role_may_not_open_is_a_friendly_403(viewer, language, words):
    html = page(visitor(language, user=viewer).get("/shipments/new/"), 403, language)
    assert all(word in html for word in words), html


@pytest.mark.parametrize(
    "language,words",
    [
        (ENGLISH, ["This form has expired", "reload the page and send the form again"]),
        (CHINESE, ["此表单已过期", "重新加载页面"]),
    ],
)
def test_a_form_sent_without_its_csrf_token_is_a_friendly_403(language, words):
    client = visitor(language, enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "olga_officer", "password": "x"})
    html = page(response, 403, language)
    assert all(word in html for word in words), html


# --- 400 and 413 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "language,words",
    [
        (ENGLISH, ["Bad request", "could not understand this request"]),
        (CHINESE, ["请求有误", "无法理解此请求"]),
    ],
)
def test_a_request_that_cannot_be_read_is_a_friendly_400(language, words):
    # A multipart body without its boundary cannot be parsed.
    response = visitor(language).post("/login/", b"garbage", content_type="multipart/form-data")
    html = page(response, 400, language)
    assert all(word in html for word in words), html


@pytest.mark.parametrize(
    "language,words",
    [
        (ENGLISH, ["Too much at once", "at most 1000\xa0bytes", "Nothing was saved"]),
        (CHINESE, ["一次发送的内容过多", "1000\xa0字节", "没有保存任何内容"]),
    ],
)
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_form_over_the_upload_limit_is_a_friendly_413(language, words):
    response = visitor(language).post("/login/", {"username": "x" * 2000, "password": "x"})
    html = page(response, 413, language)
    assert all(word in html for word in words), html


# --- 500 and 503 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "language,words",
    [
        (ENGLISH, ["Something went wrong", "tell an administrator"]),
        (CHINESE, ["出错了", "服务器未能完成此请求"]),
    ],
)
def test_an_unhandled_error_is_a_friendly_500_without_the_details(
    officer, monkeypatch, language, words
):
    from monitoring import views

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views.Dashboard, "get", broken)
    response = visitor(language, user=officer).get("/")
    html = page(response, 500, language)
    assert all(word in html for word in words), html
    assert "secret internals" not in html and "RuntimeError" not in html
    assert "Retry-After" not in response


@pytest.mark.parametrize(
    "language,words",
    [
        (ENGLISH, ["Briefly unavailable", "cannot reach its database", "Wait 30 seconds"]),
        (CHINESE, ["暂时无法使用", "无法连接数据库", "请等待 30 秒"]),
    ],
)
def test_with_the_database_down_a_signed_in_page_is_a_friendly_503(
    officer, database_down, language, words
):
    client = visitor(language, user=officer)
    database_down()
    # Even reading the session fails: it answers before any view runs.
    response = client.get("/shipments/")
    html = page(response, 503, language)
    assert all(word in html for word in words), html
    assert response["Retry-After"] == "30"


def test_with_the_database_down_a_view_that_fails_is_a_503_too(database_down):
    database_down()
    response = visitor(ENGLISH).post("/login/", {"username": "olga_officer", "password": "x"})
    assert "Briefly unavailable" in page(response, 503, ENGLISH)


def test_the_500_page_renders_with_the_database_down(officer, database_down):
    """The page is rendered without the request's context (the user, the session), which
    would need the database: a signed-in user's lazy user would be read otherwise."""
    request = RequestFactory().get("/shipments/")
    request.LANGUAGE_CODE = CHINESE
    request.user = SimpleLazyObject(lambda: User.objects.get(pk=officer.pk))
    database_down()
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = error_views.server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert "出错了" in html and '<html lang="zh-hans">' in html


def test_a_failure_before_the_language_is_known_speaks_the_browsers_language():
    request = RequestFactory().get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    try:
        raise Failure
    except Failure:
        response = error_views.server_error(request)
    assert '<html lang="zh-hans">' in response.content.decode()


def test_a_permission_error_under_the_api_outside_drf_answers_the_error_body():
    request = RequestFactory().get("/api/v1/anything/")
    response = error_views.permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    assert json.loads(response.content) == {
        "code": "permission_denied",
        "detail": "You do not have permission to perform this action.",
        "fields": {},
    }
