from django.urls import path

from . import views

app_name = "gaps"

urlpatterns = [
    path("", views.GapsHomeView.as_view(), name="gaps-home"),
    path("run/", views.RunRequestView.as_view(), name="run-request"),
    path("runs/", views.RunListView.as_view(), name="run-list"),
    path("runs/<uuid:public_id>/", views.RunDetailView.as_view(), name="run-detail"),
    path("runs/<uuid:public_id>/progress/", views.RunProgressView.as_view(), name="run-progress"),
    path("improvements/<str:key>/", views.ImprovementView.as_view(), name="improvement"),
    path("assumptions/", views.AssumptionsView.as_view(), name="assumptions"),
]
