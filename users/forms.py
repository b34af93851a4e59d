"""Account forms: sign-up, sign-in, activation resend and password reset."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordResetForm,
    SetPasswordForm,
    UserCreationForm,
)
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from ui.forms import TailwindFormMixin
from users.models import User
from users.signals import activation_requested, password_reset_requested
from users.validators import account_password_validators


class AccountPasswordMixin:
    """Judges a new password by the course's rules and Django's validators at once.

    Django reports validator errors beside the confirmation field; here every
    complaint about the password itself sits beside the password, and only the
    mismatch sits beside the confirmation.
    """

    checked_field = "password1"

    def password_help_text(self) -> str:
        return password_validation.password_validators_help_text_html(
            account_password_validators()
        )

    def validate_password_for_user(
        self, user: User, password_field_name: str | None = None
    ) -> None:
        password = self.cleaned_data.get(self.checked_field)
        if not password:
            return
        try:
            password_validation.validate_password(
                password, user, password_validators=account_password_validators()
            )
        except ValidationError as error:
            self.add_error(self.checked_field, error)


class SignUpForm(TailwindFormMixin, AccountPasswordMixin, UserCreationForm):
    """Creates an inactive account; the activation email follows from the worker."""

    email = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "first_name", "last_name", "email")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = self.password_help_text()

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(
                "An account with this email already exists.", code="unique"
            )
        return email

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.is_active = False
        if commit:
            user.save()
        return user


class LoginForm(TailwindFormMixin, AuthenticationForm):
    """The course's sign-in form: tells inactive accounts to activate."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "inactive": (
            "This account is not activated yet. Follow the link in the email we "
            "sent you, or ask for a new one."
        ),
    }

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except ValidationError as error:
            # ModelBackend refuses inactive users before confirm_login_allowed
            # runs, so "inactive" would otherwise read as a wrong password.
            if error.code == "invalid_login" and self._is_inactive_with_password():
                raise ValidationError(
                    self.error_messages["inactive"], code="inactive"
                ) from None
            raise

    @property
    def needs_activation(self) -> bool:
        return self.has_error(NON_FIELD_ERRORS, code="inactive")

    def _is_inactive_with_password(self) -> bool:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        try:
            user = User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            return False
        # Only a holder of the right password learns the account is inactive.
        return not user.is_active and user.check_password(password)


class ResendActivationForm(TailwindFormMixin, forms.Form):
    email = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def save(self) -> None:
        """Ask for a new activation email; callers must not reveal the outcome."""
        inactive = User.objects.filter(
            email__iexact=self.cleaned_data["email"], is_active=False
        )
        for user in inactive:
            activation_requested.send(sender=User, user=user)


class ResetRequestForm(TailwindFormMixin, PasswordResetForm):
    """Django's reset form whose email is recorded for the worker, never sent here."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        for user in self.get_users(self.cleaned_data["email"]):
            password_reset_requested.send(sender=User, user=user)

    def send_mail(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("The web process never sends mail: the worker does.")


class NewPasswordForm(TailwindFormMixin, AccountPasswordMixin, SetPasswordForm):
    """Password reset's last step, held to the same rules as sign-up."""

    checked_field = "new_password1"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = self.password_help_text()
