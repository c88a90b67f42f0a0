"""Sign-in and password forms: Django's own, with GOV.UK layouts and plain-English
messages that tell people what to do."""

from typing import Any

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Field, Layout, Submit
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm

NEW_CHOICE_HINT = "Use at least 12 characters. Do not use a common password, your name or username, or only numbers."


def gds_helper(*fields: str, submit: str) -> FormHelper:
    """The page template draws the <form> element and the error summary above it."""
    helper = FormHelper()
    helper.form_tag = False
    helper.layout = Layout(*(Field.text(name, field_width=20) for name in fields), Submit("submit", submit))
    return helper


class SignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "Enter a correct username and password. Both are case-sensitive.",
        "inactive": "This account is inactive.",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].error_messages["required"] = "Enter your username"
        self.fields["password"].error_messages["required"] = "Enter your password"
        self.helper = gds_helper("username", "password", submit="Sign in")


class ChooseNewPasswordForm(SetPasswordForm):
    """The two new-password boxes, on their own when a reset link is followed."""

    error_messages = {
        "password_mismatch": "The new passwords do not match. Enter the same new password in both boxes.",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        first, second = self.fields["new_password1"], self.fields["new_password2"]
        first.label, first.help_text = "New password", NEW_CHOICE_HINT
        first.error_messages["required"] = "Enter a new password"
        second.label, second.help_text = "Confirm new password", "Enter the same new password again."
        second.error_messages["required"] = "Enter your new password again"
        self.helper = gds_helper("new_password1", "new_password2", submit="Save new password")

    def clean(self) -> dict[str, Any]:
        # Django reports a password the validators refuse against the second box; the
        # message belongs to the box where the password was chosen.
        self.validate_passwords("new_password1", "new_password2")
        self.validate_password_for_user(self.user, "new_password1")
        return self.cleaned_data


class ChangePasswordForm(ChooseNewPasswordForm, PasswordChangeForm):
    error_messages = {
        **ChooseNewPasswordForm.error_messages,
        "password_incorrect": "The current password you entered is wrong. Enter the password you sign in with now.",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        old_password = self.fields["old_password"]
        old_password.label = "Current password"
        old_password.error_messages["required"] = "Enter your current password"
        # GOV.UK pages leave focus where the browser puts it, so the skip link comes first.
        old_password.widget.attrs.pop("autofocus", None)
        self.helper = gds_helper("old_password", "new_password1", "new_password2", submit="Change password")


class ResetPasswordForm(PasswordResetForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        email = self.fields["email"]
        email.label = "Email address"
        email.help_text = "The email address on your THRIVE Mapper account."
        email.error_messages.update(
            required="Enter your email address",
            invalid="Enter an email address in the correct format, like name@example.org",
            max_length="Email address must be 254 characters or fewer",
        )
        self.helper = gds_helper("email", submit="Send the link")
