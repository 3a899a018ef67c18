"""Pages for exporters, applications and fast-track decisions."""

from django.urls import path, re_path

from . import views

MOVES = "|".join(views.MOVE_SLUGS)

urlpatterns = [
    path("exporters/", views.ExporterList.as_view(), name="exporter-list"),
    path("exporters/export.csv", views.ExporterList.as_view(export=True), name="exporter-export"),
    path("exporters/new/", views.ExporterCreate.as_view(), name="exporter-create"),
    path("exporters/<int:pk>/", views.ExporterDetail.as_view(), name="exporter-detail"),
    path("exporters/<int:pk>/edit/", views.ExporterEdit.as_view(), name="exporter-edit"),
    path("exporters/<int:pk>/audit/", views.ExporterAudit.as_view(), name="exporter-audit"),
    path("applications/", views.ApplicationList.as_view(), name="application-list"),
    path(
        "applications/export.csv",
        views.ApplicationList.as_view(export=True),
        name="application-export",
    ),
    path("applications/new/", views.ApplicationCreate.as_view(), name="application-create"),
    path("applications/<int:pk>/", views.ApplicationDetail.as_view(), name="application-detail"),
    path("applications/<int:pk>/edit/", views.ApplicationEdit.as_view(), name="application-edit"),
    path(
        "applications/<int:pk>/correct/",
        views.ApplicationCorrect.as_view(),
        name="application-correct",
    ),
    re_path(
        rf"^applications/(?P<pk>[0-9]+)/(?P<move>{MOVES})/$",
        views.ApplicationMove.as_view(),
        name="application-move",
    ),
    path("fast-track/", views.FastTrackList.as_view(), name="fast-track-list"),
    path("fast-track/new/", views.FastTrackCreate.as_view(), name="fast-track-create"),
    path("fast-track/<int:pk>/", views.FastTrackDetail.as_view(), name="fast-track-detail"),
    path("fast-track/<int:pk>/revoke/", views.FastTrackRevoke.as_view(), name="fast-track-revoke"),
    path(
        "applications/<int:pk>/documents/",
        views.DocumentUpload.as_view(),
        name="application-documents",
    ),
    path(
        "documents/<int:pk>/download/", views.DocumentDownload.as_view(), name="document-download"
    ),
]
