from django.urls import path

from . import views

app_name = "sites"

urlpatterns = [
    path("<slug:site_slug>/", views.SiteOverviewView.as_view(), name="overview"),
]
