"""The product's URLs, plus the benchmark's plain view (never part of the product)."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("bench/plain/shipments/", views.plain_shipments, name="bench-plain-shipments"),
    path("", include("config.urls")),
]
