"""Versions of the THRIVE Assessment Tool: reference data, the same for every site."""

from django.urls import path

from . import views

app_name = "instruments"

urlpatterns = [
    path("instruments/", views.InstrumentListView.as_view(), name="instrument-list"),
    path("instruments/load/", views.InstrumentLoadView.as_view(), name="instrument-load"),
    # A version is free text from the file (it may hold "/"), hence path rather than str.
    path("instruments/<path:version>/", views.InstrumentDetailView.as_view(), name="instrument-detail"),
]
