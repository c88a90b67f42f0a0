"""Signing in and looking after a password, with Django's own views.

Django marks the sign-in and password reset views login_not_required, so people
who are signed out can reach them past LoginRequiredMiddleware; changing a password
needs a signed-in user like every other page."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

from .forms import ChangePasswordForm, ChooseNewPasswordForm, ResetPasswordForm, SignInForm


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = ChangePasswordForm
    success_url = reverse_lazy("password_change_done")


class PasswordResetView(auth_views.PasswordResetView):
    """Sends a one-use link to every active account with that address, and shows the
    same page whether or not one exists, so the page cannot be used to find out who
    has an account."""

    form_class = ResetPasswordForm
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form: Any) -> Any:
        self.extra_email_context = {"link_lasts": timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)}
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = ChooseNewPasswordForm
    success_url = reverse_lazy("password_reset_complete")
