"""Token sign-in: `POST /api/v1/auth/token/` with a username and password answers
`{"token": …}`; `DELETE` on the same URL revokes the caller's token."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from .serializers import StrictSerializer
from .throttling import LoginThrottle
from .views import ApiMixin


class InvalidCredentials(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    # Never which part was wrong: that would tell a guesser which usernames exist.
    default_detail = _("Unable to sign in with the given username and password.")
    default_code = "invalid_credentials"


class CredentialsSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


class TokenView(ApiMixin):
    throttle_scope = "login"
    http_method_names = ["post", "delete"]
    # Signing in is idempotent by itself (the same token until it is revoked), and keeping its
    # answer would store a credential and replay it after a revocation.
    idempotent = False

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    def get_throttles(self) -> list[Any]:
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles.append(LoginThrottle())
        return throttles

    @extend_schema(
        operation_id="auth_token_create",
        request=CredentialsSerializer,
        responses={200: TokenSerializer},
        auth=[],
        description="Sign in: answers the caller's API token (the same one until it is revoked).",
    )
    def post(self, request: Request) -> Response:
        serializer = CredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None or not user.is_active:
            if getattr(request._request, "axes_locked_out", False):
                raise self._locked_out(request._request)
            raise InvalidCredentials()
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})

    @staticmethod
    def _locked_out(django_request: Any) -> exceptions.Throttled:
        """django-axes locked this username out from this address (after repeated failures,
        counted with the sign-in page's). Answer in the API's body rather than letting its
        middleware swap in the web's lockout page."""
        from axes.helpers import get_cool_off

        django_request.axes_locked_out = False
        cool_off = get_cool_off(django_request)
        return exceptions.Throttled(
            wait=cool_off.total_seconds() if cool_off else None,
            detail=str(_("Too many failed sign-ins for this username from here; try again later.")),
        )

    @extend_schema(
        operation_id="auth_token_destroy",
        request=None,
        responses={204: OpenApiResponse(description="The caller's token is revoked.")},
    )
    def delete(self, request: Request) -> Response:
        user: Any = request.user
        Token.objects.filter(user=user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
