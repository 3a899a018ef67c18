"""The project's URLs plus the API docs page the way the API serves it (drf-spectacular's
swagger-ui from drf-spectacular-sidecar, split so that its script comes from a URL), to check
that /api/docs/ lives with the Content-Security-Policy. Where the project already serves
/api/docs/, its own route answers first."""

from django.urls import path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularSwaggerSplitView,
    SpectacularSwaggerView,
)

from config.urls import urlpatterns as project_urls

urlpatterns = [
    # The unsplit view inlines its script: the policy must block it (a control for the test).
    # It comes first, before the API's own catch-all under api/.
    path("api/docs-inline/", SpectacularSwaggerView.as_view(url_name="schema")),
    *project_urls,
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
]
