from django.urls import path

from . import views

app_name = "mapping"

urlpatterns = [
    path("services/", views.ServiceListView.as_view(), name="service-list"),
    path("services/new/", views.ServiceCreateView.as_view(), name="service-create"),
    path("services/<uuid:public_id>/", views.ServiceDetailView.as_view(), name="service-detail"),
    path("services/<uuid:public_id>/edit/", views.ServiceUpdateView.as_view(), name="service-edit"),
    path("services/<uuid:public_id>/mapping/", views.ServiceOffersView.as_view(), name="service-offers"),
    path("services/<uuid:public_id>/checked/", views.ServiceMarkCheckedView.as_view(), name="service-checked"),
    path("services/<uuid:public_id>/archive/", views.ServiceArchiveView.as_view(), name="service-archive"),
    path("services/<uuid:public_id>/restore/", views.ServiceRestoreView.as_view(), name="service-restore"),
    path("matrix/", views.MatrixView.as_view(), name="matrix"),
    path("matrix/<uuid:public_id>/<slug:grouping_code>/", views.MatrixCellView.as_view(), name="matrix-cell"),
    path("organisations/", views.OrganisationListView.as_view(), name="organisation-list"),
    path("organisations/new/", views.OrganisationCreateView.as_view(), name="organisation-create"),
    path("organisations/<uuid:public_id>/edit/", views.OrganisationUpdateView.as_view(), name="organisation-edit"),
]
