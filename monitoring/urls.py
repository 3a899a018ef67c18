"""The dashboard and the alert settings."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.Dashboard.as_view(), name="dashboard"),
    path("settings/alerts/", views.AlertSettings.as_view(), name="alert-settings"),
]
