"""A page that records a move, for the end-to-end test of a request made while the broker is
down (the product's own pages and API are built elsewhere; any view that moves an application
through the services behaves the same)."""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone

from licenses import services
from licenses.models import LicenseApplication


def accept(request: HttpRequest, pk: int) -> JsonResponse:
    application = LicenseApplication.objects.get(pk=pk)
    services.application_accept(application=application, now=timezone.now(), actor=None)
    return JsonResponse({"status": application.status})


urlpatterns = [path("e2e/applications/<int:pk>/accept/", accept)]
