"""The shipment and consignee pages."""

from django.urls import path, re_path

from . import views

MOVES = "|".join(views.MOVE_SERVICES)

urlpatterns = [
    path("shipments/", views.ShipmentList.as_view(), name="shipment-list"),
    path("shipments/export.csv", views.ShipmentList.as_view(export=True), name="shipment-export"),
    path("shipments/new/", views.ShipmentCreate.as_view(), name="shipment-create"),
    path("shipments/import/", views.ShipmentImport.as_view(), name="shipment-import"),
    path(
        "shipments/import/template.csv",
        views.ShipmentImportTemplate.as_view(),
        name="shipment-import-template",
    ),
    path("shipments/<int:pk>/", views.ShipmentDetail.as_view(), name="shipment-detail"),
    path("shipments/<int:pk>/edit/", views.ShipmentEdit.as_view(), name="shipment-edit"),
    path(
        "shipments/<int:pk>/file-application/",
        views.ShipmentFileApplication.as_view(),
        name="shipment-file-application",
    ),
    path("shipments/<int:pk>/correct/", views.ShipmentCorrect.as_view(), name="shipment-correct"),
    re_path(
        rf"^shipments/(?P<pk>[0-9]+)/(?P<move>{MOVES})/$",
        views.ShipmentMove.as_view(),
        name="shipment-move",
    ),
    path("measures/", views.MeasureList.as_view(), name="measure-list"),
    path("measures/<int:pk>/", views.MeasureDetail.as_view(), name="measure-detail"),
    path("consignees/", views.ConsigneeList.as_view(), name="consignee-list"),
    path(
        "consignees/export.csv", views.ConsigneeList.as_view(export=True), name="consignee-export"
    ),
    path("consignees/new/", views.ConsigneeCreate.as_view(), name="consignee-create"),
    path("consignees/<int:pk>/", views.ConsigneeDetail.as_view(), name="consignee-detail"),
    path("consignees/<int:pk>/edit/", views.ConsigneeEdit.as_view(), name="consignee-edit"),
]
