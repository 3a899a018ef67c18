"""The plain Django view the API list is compared with: the same 50 rows as JSON, from the
same query (the same selector, filter, order, joins and open-flag reads), token-authenticated
like the API, with none of the framework: no serializer, no filterset, no paginator."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.authtoken.models import Token

from monitoring.models import Flag
from shipments import selectors
from shipments.services import legal_shipment_moves

FIELDS = (
    "id",
    "exporter_id",
    "reference",
    "item_id",
    "quantity",
    "unit",
    "value",
    "currency",
    "destination",
    "consignee_id",
    "planned_ship_date",
    "application_id",
    "status",
    "last_moved_at",
    "shipped_at",
    "delivered_at",
    "created_at",
    "updated_at",
)


def _user(request: HttpRequest) -> Any:
    scheme, _sep, key = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Token":
        return None
    token = Token.objects.select_related("user").filter(key=key).first()
    return token.user if token and token.user.is_active else None


def plain_shipments(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user is None:
        return JsonResponse({"detail": "unauthenticated"}, status=401)
    open_flags = Flag.objects.filter(cleared_at__isnull=True)
    qs = (
        selectors.shipment_list(user=user)
        .select_related("item__authority", "application__authority")
        .prefetch_related(
            Prefetch("flags", queryset=open_flags, to_attr="open_flags"),
            Prefetch(  # type: ignore[no-redef]
                "application__flags", queryset=open_flags, to_attr="open_flags"
            ),
        )
        .order_by("-id")
    )
    if "status" in request.GET:
        qs = qs.filter(status=request.GET["status"])
    size = min(max(int(request.GET.get("page_size", 50)), 1), 100)
    results = []
    for s in qs[:size]:
        row = {name.removesuffix("_id"): getattr(s, name) for name in FIELDS}
        kinds = {f.kind for f in s.open_flags}  # type: ignore[attr-defined]
        if s.application is not None:
            kinds |= {f.kind for f in s.application.open_flags}  # type: ignore[attr-defined]
        row["flags"] = sorted(kinds)
        row["legal_moves"] = [m.replace("_", "-") for m in legal_shipment_moves(s)]
        results.append(row)
    return JsonResponse({"next": None, "previous": None, "results": results})
