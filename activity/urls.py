from django.urls import path

from . import views

app_name = "activity"

urlpatterns = [
    path("activity/", views.SiteActivityView.as_view(), name="site-activity"),
    path("history/services/<uuid:public_id>/", views.ServiceHistoryView.as_view(), name="service-history"),
    path(
        "history/organisations/<uuid:public_id>/",
        views.OrganisationHistoryView.as_view(),
        name="organisation-history",
    ),
    path("history/rounds/<uuid:public_id>/", views.RoundHistoryView.as_view(), name="round-history"),
    # Improvement keys contain ":" (grow:getting-help); str takes anything but "/".
    path("history/improvements/<str:key>/", views.DecisionHistoryView.as_view(), name="decision-history"),
    path("history/assumptions/", views.AssumptionsHistoryView.as_view(), name="assumptions-history"),
    path("history/population/", views.PopulationHistoryView.as_view(), name="population-history"),
    path("history/areas/", views.AreasHistoryView.as_view(), name="areas-history"),
]
