from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import URLPattern, URLResolver, include, path

from config.auth import PasswordResetView

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
]


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask every site for /favicon.ico (the admin links no icon of its own)."""
    return redirect(static("img/favicon.svg"))


# Web forms: sign-in, password change and reset (the reset e-mail goes out from the worker,
# `config.auth.PasswordResetView`), the pages.
urlpatterns += [
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password/reset/", PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("favicon.ico", favicon),
    path("", include("monitoring.urls")),
    path("", include("shipments.urls")),
    path("", include("licenses.urls")),
]

# Web forms II: the language switch (cookie, and the stored setting of a signed-in user).
from config.language import set_language  # noqa: E402

urlpatterns += [path("i18n/setlang/", set_language, name="set_language")]

# What a failed request answers: the API's error body under /api/, else a page in the visitor's
# language; 503 when the database or the broker is out of reach (core/error_views.py).
handler400 = "core.error_views.bad_request"
handler403 = "core.error_views.permission_denied"
handler404 = "core.error_views.page_not_found"
handler500 = "core.error_views.server_error"
