"""The plain Django view the API is compared with: the same 50 rows as JSON, no framework."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse


def plain_shipments(request: HttpRequest) -> HttpResponse:
    """Filled in once the API is merged (it must run the API's own query)."""
    return JsonResponse({"results": []})
