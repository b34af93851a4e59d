"""Sign-up, activation, sign-in/out, password reset and profile pages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from ui.http import form_data
from users.accounts import (
    EmailChangeOutcome,
    InvitationOutcome,
    LinkOutcome,
    RestoreOutcome,
    accept_invitation,
    cancel_email_change,
    change_from_restore_link,
    confirm_email_change,
    follow_activation_link,
    invitation_from_link,
    read_activation_link,
    request_email_change,
    restore_address,
    user_from_email_change_link,
)
from users.forms import (
    AccountPasswordChangeForm,
    EmailChangeForm,
    InvitationAcceptForm,
    LoginForm,
    NewPasswordForm,
    ProfileForm,
    ResendActivationForm,
    ResetRequestForm,
    SignUpForm,
)
from users.http import AuthenticatedRequest
from users.models import Theme, User
from users.protection import limit_per_account, limit_per_client
from users.tokens import (
    encode_uid,
    lasts,
    password_reset_token,
    password_reset_token_generator,
)

SIGNED_UP_EMAIL = "users.signed_up_email"
# The account this browser signed up: following its activation link here signs in.
SIGNED_UP_USER = "users.signed_up_user"
# The username the sign-in form is filled with, after activation in a new browser.
ACTIVATED_USERNAME = "users.activated_username"
SIGN_IN_BACKEND = "users.backends.UsernameOrEmailBackend"
RESEND_ANSWER = (
    "If an account with that address is waiting for activation, a new link is on "
    "its way. Check your inbox (and spam folder) in a few minutes."
)


# The form comes back with the passwords typed (users.forms.AccountFormMixin): no
# cache may keep that page, and no error report may show them.
@sensitive_post_parameters("password1", "password2")
@never_cache
@require_http_methods(["GET", "POST"])
@limit_per_client("users.sign_up", "RATELIMIT_SIGN_UP")
def sign_up(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    if not settings.SIGN_UP_OPEN:
        # Not an error: this team lets people in by invitation only.
        return render(request, "users/sign_up_closed.html")
    form = SignUpForm(form_data(request))
    if request.method == "POST" and form.is_valid() and _create_account(form):
        request.session[SIGNED_UP_EMAIL] = form.instance.email
        request.session[SIGNED_UP_USER] = form.instance.pk
        return redirect("users:sign-up-done")
    return render(request, "users/sign_up.html", {"form": form})


def _create_account(form: SignUpForm) -> bool:
    try:
        with transaction.atomic():
            form.save()
    except IntegrityError:
        # Another sign-up took the username or email after this form validated.
        form.add_error(None, "That username or email was just taken. Try another.")
        return False
    return True


@require_http_methods(["GET"])
def sign_up_done(request: HttpRequest) -> HttpResponse:
    email = request.session.get(SIGNED_UP_EMAIL, "")
    # The same words as the activation email's.
    valid_for = lasts(settings.PASSWORD_RESET_TIMEOUT)
    context = {"email": email, "valid_for": valid_for}
    return render(request, "users/sign_up_done.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def activate(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The emailed link. GET (or HEAD) asks, POST activates: a mail scanner that
    opens every link must not activate an account someone else signed up for
    with this address (its owner would then be told the address is taken)."""
    if request.method == "POST":
        outcome, user = follow_activation_link(uidb64, token)
    else:
        outcome, user = read_activation_link(uidb64, token)
    if outcome == LinkOutcome.DEACTIVATED:
        return render(request, "users/account_deactivated.html", status=403)
    if user is None:
        return render(request, "users/activation_invalid.html", status=400)
    if outcome == LinkOutcome.READY:
        days = settings.UNACTIVATED_ACCOUNT_DAYS
        context = {"account": user, "expiry_days": days}
        return render(request, "users/activation_confirm.html", context)
    if request.session.get(SIGNED_UP_USER) == user.pk:
        return _sign_in_after_activation(request, user)
    request.session[ACTIVATED_USERNAME] = user.username
    messages.success(
        request, "Your account is active. Enter your password to get started."
    )
    return redirect(f"{reverse('users:sign-in')}?next={reverse('users:welcome')}")


def _sign_in_after_activation(request: HttpRequest, user: User) -> HttpResponse:
    """The browser that signed up, and so chose the password, is signed in.

    Anywhere else the link alone is not enough: it proves the mailbox, not who
    chose the password (someone may have signed up with another person's
    address), and mail scanners that open links must not get a session.
    """
    del request.session[SIGNED_UP_USER]
    login(request, user, backend=SIGN_IN_BACKEND)
    messages.success(request, "Your account is active, and you are signed in.")
    return redirect("users:welcome")


@login_required
@require_http_methods(["GET"])
def welcome(request: AuthenticatedRequest) -> HttpResponse:
    """What to expect: tasks, emails and where to choose them, the profile."""
    return render(request, "users/welcome.html", {"zone": request.user.zone.key})


@sensitive_post_parameters("password1", "password2")
@never_cache
@require_http_methods(["GET", "POST"])
@limit_per_client("users.sign_up", "RATELIMIT_SIGN_UP")
def accept_invitation_view(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed invitation: choosing a username and a password creates the
    account, with the role the invitation gives, and signs it in. The link
    alone creates nothing: a mail scanner opening it only sees the form."""
    invitation = invitation_from_link(token)
    if invitation is None:
        return render(request, "users/invitation_invalid.html", status=400)
    form = InvitationAcceptForm(invitation, form_data(request))
    if request.method == "POST" and form.is_valid():
        account = form.save()
        outcome = accept_invitation(invitation, account)
        if outcome == InvitationOutcome.ACCEPTED:
            login(request, account, backend=SIGN_IN_BACKEND)
            messages.success(request, "Welcome to the team: your account is ready.")
            return redirect("users:welcome")
        if outcome == InvitationOutcome.TAKEN:
            taken = {"email": invitation.email}
            return render(request, "users/invitation_taken.html", taken, status=409)
        return render(request, "users/invitation_invalid.html", status=400)
    page = {"form": form, "invitation": invitation}
    return render(request, "users/invitation_accept.html", page)


@require_http_methods(["GET", "POST"])
@limit_per_client("users.activation_resend", "RATELIMIT_ACCOUNT_EMAILS")
def resend_activation(request: HttpRequest) -> HttpResponse:
    form = ResendActivationForm(
        form_data(request), initial={"email": request.GET.get("email", "")}
    )
    if request.method == "POST" and form.is_valid():
        form.save()
        # One answer whatever happened, so the page reveals no account.
        messages.success(request, RESEND_ANSWER)
        return redirect("users:activation-resend")
    return render(request, "users/activation_resend.html", {"form": form})


class SignInView(auth_views.LoginView):
    """LoginView follows `next` only when url_has_allowed_host_and_scheme allows.

    After activation in another browser the form comes filled with the username,
    the cursor in the password field.
    """

    authentication_form = LoginForm
    template_name = "users/sign_in.html"
    redirect_authenticated_user = True

    def get_initial(self) -> dict[str, Any]:
        username = self.request.session.get(ACTIVATED_USERNAME, "")
        return {**super().get_initial(), "username": username}

    def get_form(
        self, form_class: type[AuthenticationForm] | None = None
    ) -> AuthenticationForm:
        form = super().get_form(form_class)
        if form.initial.get("username") and not form.is_bound:
            form.fields["username"].widget.attrs.pop("autofocus", None)
            form.fields["password"].widget.attrs["autofocus"] = True
        return form

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        self.request.session.pop(ACTIVATED_USERNAME, None)
        return super().form_valid(form)


class SignOutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have signed out.")
        return response


@method_decorator(
    limit_per_client("users.password_reset", "RATELIMIT_ACCOUNT_EMAILS"), name="post"
)
class PasswordResetView(auth_views.PasswordResetView):
    form_class = ResetRequestForm
    template_name = "users/password_reset_form.html"
    success_url = reverse_lazy("users:password-reset-done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "users/password_reset_done.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        valid_for = lasts(settings.PASSWORD_RESET_LINK_TIMEOUT)
        return {**super().get_context_data(**kwargs), "valid_for": valid_for}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = NewPasswordForm
    token_generator = password_reset_token_generator
    template_name = "users/password_reset_confirm.html"
    success_url = reverse_lazy("users:password-reset-complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "users/password_reset_complete.html"


# Profile -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: AuthenticatedRequest) -> HttpResponse:
    """Name and time zone, saved here; the email and password forms post elsewhere."""
    form = ProfileForm(form_data(request), instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your profile is saved.")
        return redirect("users:profile")
    return _profile_page(request, profile_form=form)


@sensitive_post_parameters("password")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@limit_per_client("users.email_change", "RATELIMIT_ACCOUNT_EMAILS")
def change_email(request: AuthenticatedRequest) -> HttpResponse:
    """Asks for a new address; it takes effect when its emailed link is followed."""
    if request.method == "GET":  # the form lives on the profile page
        return redirect("users:profile")
    form = EmailChangeForm(request.user, request.POST)
    if not form.is_valid():
        return _profile_page(request, email_form=form)
    request_email_change(request.user, form.cleaned_data["email"])
    messages.success(
        request,
        f"We sent a link to {request.user.pending_email}: your address changes "
        "when you follow it. Your current address has been told about the change.",
    )
    return redirect("users:profile")


@login_required
@require_http_methods(["GET", "POST"])
def cancel_email_change_view(request: AuthenticatedRequest) -> HttpResponse:
    if request.method == "POST" and cancel_email_change(request.user):
        messages.info(request, "The change of email address is cancelled.")
    return redirect("users:profile")


@login_required
@require_http_methods(["GET", "POST"])
def theme(request: AuthenticatedRequest) -> HttpResponse:
    """Light, dark or as the system says: kept on the account, so every
    device signed in shows it."""
    chosen = request.POST.get("theme")
    if request.method == "POST" and chosen in Theme.values:
        request.user.theme = chosen
        request.user.save(update_fields=["theme"])
        messages.success(request, f"Appearance: {Theme(chosen).label.lower()}.")
    return redirect("users:profile")


def _profile_page(
    request: AuthenticatedRequest,
    profile_form: ProfileForm | None = None,
    email_form: EmailChangeForm | None = None,
) -> HttpResponse:
    context = {
        "profile_form": profile_form or ProfileForm(instance=request.user),
        "email_form": email_form or EmailChangeForm(request.user),
        "themes": Theme.choices,
    }
    return render(request, "users/profile.html", context)


# Its current-password check is a way to guess the password with a session
# alone: throttled per account.
@method_decorator(
    limit_per_account("users.password_change", "RATELIMIT_PASSWORD_CHANGE"),
    name="post",
)
class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's flow: the old password, then the new one twice; the session (and
    this browser's sign-in) is kept, other sessions are signed out."""

    form_class = AccountPasswordChangeForm
    template_name = "users/password_change.html"
    success_url = reverse_lazy("users:profile")

    @method_decorator(never_cache)
    def dispatch(self, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return super().dispatch(*args, **kwargs)

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, "Your password has been changed.")
        return response


@require_http_methods(["GET", "POST"])
def confirm_email(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The link sent to the new address. GET asks, POST changes: mail scanners
    that open every link must not confirm an address nobody checked."""
    user = user_from_email_change_link(uidb64, token)
    if user is None:
        return render(request, "users/email_change_invalid.html", status=400)
    if request.method == "GET":
        return render(request, "users/email_change_confirm.html", {"account": user})
    new_email = user.pending_email
    outcome = confirm_email_change(user)
    if outcome == EmailChangeOutcome.CHANGED:
        context = {"account": user, "email": new_email}
        return render(request, "users/email_change_done.html", context)
    if outcome == EmailChangeOutcome.TAKEN:
        context = {"email": new_email}
        return render(request, "users/email_change_taken.html", context, status=409)
    return render(request, "users/email_change_invalid.html", status=400)


@never_cache
@require_http_methods(["GET", "POST"])
def restore_email(request: HttpRequest, token: str) -> HttpResponse:
    """The link sent to the address an account left. GET asks, POST gives the
    address back (users.accounts.restore_address), then offers to choose a new
    password at once: following the link proved the mailbox, as a reset email
    would."""
    change = change_from_restore_link(token)
    if change is None:
        return render(request, "users/email_restore_invalid.html", status=400)
    if request.method == "GET":
        return render(request, "users/email_restore_confirm.html", {"change": change})
    outcome = restore_address(change)
    if outcome == RestoreOutcome.TAKEN:
        taken = {"email": change.old_email}
        return render(request, "users/email_restore_taken.html", taken, status=409)
    if outcome != RestoreOutcome.RESTORED:
        return render(request, "users/email_restore_invalid.html", status=400)
    account = change.user
    new_password = reverse(
        "users:password-reset-confirm",
        kwargs={"uidb64": encode_uid(account), "token": password_reset_token(account)},
    )
    context = {"change": change, "new_password_link": new_password}
    return render(request, "users/email_restore_done.html", context)
