from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import views as accounts_views
from sites.views import HomeView

from .health import health_view

admin.site.site_header = "THRIVE Mapper administration"
admin.site.site_title = "THRIVE Mapper"

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("accounts/login/", accounts_views.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/change/", accounts_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/password/reset/", accounts_views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        accounts_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("sites/", include("sites.urls")),
    path("sites/<slug:site_slug>/", include("mapping.urls")),
    path("sites/<slug:site_slug>/assessment/", include("assessment.urls")),
    path("assessment/", include("assessment.instrument_urls")),
    path("sites/<slug:site_slug>/gaps/", include("gaps.urls")),
    path("sites/<slug:site_slug>/", include("activity.urls")),
    path("api/", include("thrive_site.api_urls")),
    path("health/", health_view, name="health"),
    # Staff change their password on the same page as everyone else: the admin's own
    # view would render that page's template with a form it was not built for.
    path(
        "admin/password_change/",
        RedirectView.as_view(pattern_name="password_change"),
        name="admin-password-change",
    ),
    path("admin/", admin.site.urls),
]

handler400 = "thrive_site.exceptions.bad_request"
handler403 = "thrive_site.exceptions.permission_denied"
handler404 = "thrive_site.exceptions.page_not_found"
handler500 = "thrive_site.exceptions.server_error"
