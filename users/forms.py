"""Account forms: sign-up, sign-in, activation resend, password reset, profile."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
    UserCreationForm,
    UsernameField,
)
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.boundfield import BoundField

from ui.forms import TailwindFormMixin
from users.accounts import email_taken, find_account, pending_invitations
from users.models import Invitation, Role, User, time_zone_names
from users.signals import activation_requested, password_reset_requested
from users.validators import account_password_validators

if TYPE_CHECKING:  # the password mixin only ever sits in front of a Django form
    _FormBase = forms.BaseForm
    _SetPasswordForm = SetPasswordForm[User]  # generic in django-stubs only
else:
    _FormBase = object
    _SetPasswordForm = SetPasswordForm


class AccountBoundField(BoundField):
    """A field whose errors, once it has any, replace its help text.

    The errors say what to fix; the help beneath them would say it again (the
    password rules twice over), to the eye and to screen readers alike.
    """

    @property
    def shows_help(self) -> bool:
        return bool(self.help_text) and not self.errors

    @property
    def aria_describedby(self) -> str | None:
        described: str | None = super().aria_describedby
        if not described or self.shows_help:
            return described
        hidden_help = f"{self.auto_id}_helptext"
        return " ".join(ref for ref in described.split() if ref != hidden_help)


class AccountFormMixin(TailwindFormMixin):
    """The account pages' forms: product styling, errors instead of help, and
    typed passwords kept when the form comes back with errors.

    Keeping a password is safe here: the page goes back, over the same HTTPS
    connection, only to the person who typed it a moment ago, is never stored
    or logged (sensitive_post_parameters), and the views that show it send
    Cache-Control: no-store, so no copy stays in a cache.
    """

    bound_field_class = AccountBoundField
    kept_passwords: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.PasswordInput):
                # Shares a row with its Show button, down to a phone's width.
                field.widget.attrs["class"] += " min-w-0"
                field.widget.render_value = name in self.kept_passwords


class AccountPasswordMixin(_FormBase):
    """Judges a new password by the course's rules and Django's validators at once.

    Django reports validator errors beside the confirmation field; here every
    complaint about the password itself sits beside the password, and only the
    mismatch sits beside the confirmation.
    """

    checked_field = "password1"

    def password_help_text(self) -> str:
        return str(
            password_validation.password_validators_help_text_html(
                account_password_validators()
            )
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


class SignUpForm(AccountFormMixin, AccountPasswordMixin, UserCreationForm[User]):
    """Creates an inactive account; the activation email follows from the worker."""

    email = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    kept_passwords = ("password1", "password2")
    # The browser's zone (static/js/time-zone.js), so a new account reads its
    # dates in the person's time, not the site's; empty without JavaScript.
    time_zone = forms.CharField(
        required=False,
        widget=forms.HiddenInput(attrs={"data-browser-time-zone": ""}),
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "first_name", "last_name", "email", "time_zone")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "username"
        ].help_text = "Letters, digits and . + - _ only, up to 150 characters."
        self.fields["password1"].help_text = self.password_help_text()

    def clean_username(self) -> str:
        username = super().clean_username() or ""  # Django's None: already taken
        # People sign in with a username or an email address: a username that
        # could be someone's address would make "which account?" ambiguous.
        if "@" in username:
            raise ValidationError(
                "Use a username without @ (you can sign in with your email "
                "address as well).",
                code="invalid",
            )
        return username

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"])
        if email_taken(email):
            raise ValidationError(
                "An account with this email already exists.", code="unique"
            )
        return email

    def clean_time_zone(self) -> str:
        """A zone the browser named, or none (the site's): never an error, for
        a field nobody sees."""
        zone: str = self.cleaned_data.get("time_zone") or ""
        return zone if zone in livable_zones() else ""

    def save(self, commit: bool = True) -> User:
        user: User = super().save(commit=False)
        user.is_active = False
        if commit:
            user.save()
        return user


class LoginForm(AccountFormMixin, AuthenticationForm):
    """The course's sign-in form, by username or email address (any case).

    Tells inactive accounts why they cannot sign in: a never-activated account
    is told to activate; one an Admin deactivated is told to contact an Admin
    (no activation link can switch it back on). The password is not kept after
    an error: it was wrong, or the account cannot sign in anyway.
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "Please enter a correct username or email and password. Passwords "
            "and usernames are case-sensitive; email addresses are not."
        ),
        "inactive": (
            "This account is not activated yet. Follow the link in the email we "
            "sent you, or ask for a new one."
        ),
        "deactivated": (
            "This account has been deactivated. Contact an Admin if you need it "
            "switched back on."
        ),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        assert isinstance(username, forms.CharField)  # Django's UsernameField
        username.label = "Username or email"
        username.max_length = 254  # an email address is longer than a username
        username.widget.attrs["maxlength"] = 254

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except ValidationError as error:
            # ModelBackend refuses inactive users before confirm_login_allowed
            # runs, so "inactive" would otherwise read as a wrong password.
            inactive = self._inactive_with_password()
            if error.code == "invalid_login" and inactive is not None:
                code = "deactivated" if inactive.is_deactivated else "inactive"
                raise ValidationError(self.error_messages[code], code=code) from None
            raise

    @property
    def needs_activation(self) -> bool:
        return self.has_error(NON_FIELD_ERRORS, code="inactive")

    def _inactive_with_password(self) -> User | None:
        """The inactive account named, when (and only when) the password is right."""
        user = find_account(self.cleaned_data.get("username") or "")
        password = self.cleaned_data.get("password")
        # Only a holder of the right password learns the account is inactive.
        if user is None or user.is_active or not user.check_password(password):
            return None
        return user


class ResendActivationForm(AccountFormMixin, forms.Form):
    email = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def save(self) -> None:
        """Ask for a new activation email; callers must not reveal the outcome.

        Only for accounts never activated: a deactivated one stays off.
        """
        never_activated = User.objects.filter(
            email__iexact=self.cleaned_data["email"],
            is_active=False,
            activated_at__isnull=True,
        )
        for user in never_activated:
            activation_requested.send(sender=User, user=user)


class ResetRequestForm(AccountFormMixin, PasswordResetForm):
    """Django's reset form whose email is recorded for the worker, never sent here."""

    def get_users(self, email: str) -> Iterator[User]:
        """Django's, with accounts whose password is unusable too: a restored
        address voids it (users.accounts.restore_address), and a reset is then
        the way to a new one. No account here signs in elsewhere instead."""
        accounts = User._default_manager.filter(email__iexact=email, is_active=True)
        # As Django's: iexact may match more than the Unicode-aware comparison.
        return (each for each in accounts if folded(each.email) == folded(email))

    def save(self, *args: Any, **kwargs: Any) -> None:
        for user in self.get_users(self.cleaned_data["email"]):
            password_reset_requested.send(sender=User, user=user)

    def send_mail(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("The web process never sends mail: the worker does.")


class NewPasswordForm(AccountFormMixin, AccountPasswordMixin, _SetPasswordForm):
    """A new password (reset's last step; the change below), held to the sign-up
    rules; choosing one cancels a waiting email change."""

    checked_field = "new_password1"
    kept_passwords = ("new_password1", "new_password2")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = self.password_help_text()

    def save(self, commit: bool = True) -> Any:
        forget_waiting_email(self.user)
        return super().save(commit)


def folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


# Names in the time zone database that are no place: tzdata's placeholder zone
# and the host's own setting.
NOT_A_PLACE = frozenset({"Factory", "localtime", "posixrules"})


def livable_zones() -> frozenset[str]:
    """Every time zone a person may live in."""
    return time_zone_names() - NOT_A_PLACE


def time_zone_choices() -> list[tuple[str, str]]:
    """The zones the profile offers (the one place a person sets theirs)."""
    return [(name, name.replace("_", " ")) for name in sorted(livable_zones())]


class ProfileForm(AccountFormMixin, forms.ModelForm[User]):
    """Name and time zone: what a person changes about themselves at once."""

    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=time_zone_choices,
        help_text="Dates and times on the pages and in your emails are written in "
        "it; your digest, reminders and quiet hours follow it.",
    )

    class Meta:
        model = User
        fields = ("first_name", "last_name", "time_zone")
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An account without a zone of its own reads in the site's.
        self.initial["time_zone"] = self.instance.zone.key


class EmailChangeForm(AccountFormMixin, forms.Form):
    """A new address, and the current password: a session left open on someone
    else's screen must not be enough to move the account (and its password
    resets) to another mailbox."""

    email = forms.EmailField(
        label="New email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"])
        if email.lower() == self.user.email.lower():
            raise ValidationError("This is already your email address.", code="same")
        if email_taken(email, by_other_than=self.user):
            raise ValidationError(
                "An account with this email already exists.", code="unique"
            )
        return email

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(
                "Your password was entered incorrectly. Please enter it again.",
                code="password_incorrect",
            )
        return password

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        keep_password_if_right(self, "password")
        return cleaned


class AccountPasswordChangeForm(NewPasswordForm, PasswordChangeForm):
    """Django's password change (old password first), held to the sign-up rules."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        keep_password_if_right(self, "old_password")
        return cleaned


def keep_password_if_right(form: forms.BaseForm, name: str) -> None:
    """Send a current password back only when it was right: a wrong one is
    worth typing again, and is not shown to whoever stands at the screen."""
    widget = form.fields[name].widget
    if isinstance(widget, forms.PasswordInput):
        widget.render_value = name not in form.errors


def forget_waiting_email(user: User) -> None:
    """A new password voids a waiting email change: its link hashes the old
    password, and whoever resets a password may be taking the account back."""
    user.pending_email = ""


# The team -------------------------------------------------------------------------


class InviteForm(AccountFormMixin, forms.Form):
    """An Admin invites someone by email, with the role they will have."""

    email = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    first_name = forms.CharField(label="First name", max_length=150, required=False)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EMPLOYEE)

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"])
        if email_taken(email):
            raise ValidationError(
                "Someone on the team already has this address.", code="unique"
            )
        if pending_invitations().filter(email__iexact=email).exists():
            raise ValidationError(
                "This address is invited already: send the invitation again below.",
                code="invited",
            )
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class InvitationAcceptForm(SignUpForm):
    """The invited person's account: the invitation gives the address (and, as
    a suggestion, the name); they choose a username and a password."""

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "time_zone"]
        field_classes = {"username": UsernameField}

    def __init__(self, invitation: Invitation, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["email"]
        # Django's password validators compare the password with the address.
        self.instance.email = invitation.email
        self.initial.setdefault("first_name", invitation.first_name)
        self.initial.setdefault("last_name", invitation.last_name)
        self.initial.setdefault("username", suggested_username(invitation.email))

    def save(self, commit: bool = False) -> User:
        """The account, unsaved, its password set: accepting saves it."""
        user: User = UserCreationForm.save(self, commit=False)
        return user


def suggested_username(email: str) -> str:
    """The address's local part, kept to the characters usernames allow, and
    not one already taken."""
    base = "".join(c for c in email.split("@")[0] if c.isalnum() or c in ".+-_")
    base = base[:140] or "member"
    taken = set(
        User._default_manager.filter(username__startswith=base).values_list(
            "username", flat=True
        )
    )
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}{number}"
    return candidate
