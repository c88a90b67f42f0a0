from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.views import SignInView
from sites.views import HomeView

from .health import health_view

admin.site.site_header = "THRIVE Mapper administration"
admin.site.site_title = "THRIVE Mapper"

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("sites/", include("sites.urls")),
    path("sites/<slug:site_slug>/", include("mapping.urls")),
    path("sites/<slug:site_slug>/assessment/", include("assessment.urls")),
    path("assessment/", include("assessment.instrument_urls")),
    path("sites/<slug:site_slug>/gaps/", include("gaps.urls")),
    path("sites/<slug:site_slug>/", include("activity.urls")),
    path("api/", include("thrive_site.api_urls")),
    path("health/", health_view, name="health"),
    path("admin/", admin.site.urls),
]
