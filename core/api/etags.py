"""`ETag`, `If-Match` and `If-None-Match` on the API's objects (SPEC, *For integrators*).

An object's ETag is a strong validator of the object as the API shows it to the caller: the
quoted sha256 (first 32 hex digits) of its detail body in canonical JSON. Every detail answer
(a read, and the 200/201 of a create, an edit or a move) carries it; lists do not.

A PUT, PATCH or POST on an object (an edit or a move) with `If-Match` is checked inside the
write's transaction (`ApiMixin.guarded`): the object's row is locked (`SELECT … FOR UPDATE`),
read again and its ETag compared with the listed ones (strong comparison: a weak tag never
matches; `*` matches any existing object). No match answers 412 `precondition_failed` and
changes nothing; a match proceeds under the lock, so no other write of the row can come
between the check and the change. A GET whose `If-None-Match` names the current ETag answers
304 with no body.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.db.models import Model
from django.http import HttpResponseBase, HttpResponseNotModified
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _(
        "The object has changed since the ETag in If-Match was read; fetch it again."
    )
    default_code = "precondition_failed"


def etag_of(data: Any) -> str:
    canonical = json.dumps(
        data, cls=JSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def tags(header: str) -> list[str]:
    """The entity tags a header lists (`*` stays `*`)."""
    return [part.strip() for part in header.split(",") if part.strip()]


def if_match(request: Request, view: Any) -> list[str] | None:
    """The tags of `If-Match` on a write to one object, else None."""
    header = request.headers.get("If-Match")
    if header is None or request.method not in UNSAFE or not getattr(view, "detail", False):
        return None
    return tags(header)


def check(view: Any, wanted: list[str]) -> None:
    """In the write's transaction: lock the object's row, read it again and compare its ETag
    with `wanted` (412 when none matches). 404 and 403 as the view's own lookup answers."""
    instance: Model = view.get_object()
    model = type(instance)
    list(model._base_manager.select_for_update().filter(pk=instance.pk).values_list("pk"))
    if "*" in wanted:
        return
    current = etag_of(view.get_serializer(view.get_object()).data)
    if current not in wanted:
        raise PreconditionFailed()


def shows_the_object(view: Any, response: Response) -> bool:
    """Whether the answer's body is the view's object: a create, or a detail route answering
    with its own object (not, say, another resource made from it)."""
    serializer = getattr(response.data, "serializer", None)
    instance = getattr(serializer, "instance", None)
    if not isinstance(instance, Model) or getattr(serializer, "many", False):
        return False
    serializer_class = getattr(view, "serializer_class", None)
    model = getattr(getattr(serializer_class, "Meta", None), "model", None)
    if model is None or not isinstance(instance, model):
        return False
    action = getattr(view, "action", None)
    if action == "create":
        return True
    if not getattr(view, "detail", False):
        return False
    lookup = view.lookup_url_kwarg or view.lookup_field
    return str(getattr(instance, view.lookup_field, None)) == str(view.kwargs.get(lookup))


def tag(view: Any, request: Request, response: HttpResponseBase) -> HttpResponseBase:
    """Add the ETag to a detail answer; a GET whose `If-None-Match` names it gets a 304."""
    if (
        not isinstance(response, Response)
        or response.status_code not in (200, 201)
        or not isinstance(response.data, Mapping)
        or not shows_the_object(view, response)
    ):
        return response
    etag = etag_of(response.data)
    response["ETag"] = etag
    if request.method in ("GET", "HEAD"):
        wanted = request.headers.get("If-None-Match")
        # Weak comparison (RFC 9110 13.1.2): W/ prefixes are ignored.
        if wanted and (
            wanted.strip() == "*" or etag in [t.removeprefix("W/") for t in tags(wanted)]
        ):
            not_modified = HttpResponseNotModified()
            not_modified["ETag"] = etag
            return not_modified
    return response
