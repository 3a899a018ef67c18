"""`/api/v1/…` resources, the token view, the OpenAPI schema and its documentation page."""

from __future__ import annotations

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from core.api.auth import TokenView
from core.api.errors import not_found
from licenses.api import views as licenses
from monitoring.api import views as monitoring
from shipments.api import views as shipments

router = SimpleRouter()
router.register("authorities", licenses.AuthorityViewSet, basename="authority")
router.register("controlled-items", licenses.ControlledItemViewSet, basename="controlleditem")
router.register("exporters", licenses.ExporterViewSet, basename="exporter")
router.register("consignees", shipments.ConsigneeViewSet, basename="consignee")
router.register("applications", licenses.ApplicationViewSet, basename="application")
router.register("shipments", shipments.ShipmentViewSet, basename="shipment")
router.register(
    "fast-track-decisions", licenses.FastTrackDecisionViewSet, basename="fasttrackdecision"
)
router.register("measures", licenses.MeasureViewSet, basename="measure")
router.register("flags", monitoring.FlagViewSet, basename="flag")
router.register("events", licenses.EventViewSet, basename="event")
router.register("webhooks", monitoring.WebhookViewSet, basename="webhook")
router.register(
    r"applications/(?P<application_pk>[0-9]+)/documents",
    licenses.DocumentViewSet,
    basename="application-document",
)

urlpatterns = [
    path("v1/auth/token/", TokenView.as_view(), name="api-token"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Anything else under /api/v1/ answers the API's own 404 body, not an HTML page.
    re_path(r"^v1/", not_found),
]
