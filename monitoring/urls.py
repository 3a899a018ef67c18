"""The dashboard, the alert settings and the webhooks page."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.Dashboard.as_view(), name="dashboard"),
    path("settings/alerts/", views.AlertSettings.as_view(), name="alert-settings"),
    path("webhooks/", views.Webhooks.as_view(), name="webhooks"),
]
