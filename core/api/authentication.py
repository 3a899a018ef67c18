"""Token authentication whose failures are throttled per client address.

A module of its own, importing no view: DRF imports the authentication classes named in
settings while it defines `APIView`.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header

from .throttling import BadTokenThrottle


class ThrottledTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, as DRF reads it, with a limit on wrong tokens.

    Each request whose token is refused (unknown, malformed, or its user inactive) counts one
    failure for the client's address (`bad_token`, in the shared cache). Once the address has
    used up its failures, every request from it that carries a token answers 429 with
    `Retry-After` until the oldest failure leaves the window, without the token being looked
    up: a right token guessed by then would tell the guesser nothing. Requests that carry no
    token (a session, or none) are not affected.
    """

    def authenticate(self, request: Any) -> Any:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        throttle = BadTokenThrottle()
        if throttle.exceeded(request):
            raise exceptions.Throttled(
                wait=throttle.wait(),
                detail=str(_("Too many requests with a wrong token from this address.")),
            )
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle.record()
            raise

    def authenticate_credentials(self, key: str) -> Any:
        """DRF's, reading the user's profile (what they may see, which every answer asks)
        in the same query as the token and the user. A token refused is refused by DRF's own
        code, in its words."""
        model: Any = self.get_model()
        token = model.objects.select_related("user__profile").filter(key=key).first()
        if token is None or not token.user.is_active:
            return super().authenticate_credentials(key)
        return (token.user, token)
