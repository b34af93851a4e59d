"""Sign-up, activation, sign-in/out and password reset pages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from users.accounts import LinkOutcome, follow_activation_link
from users.forms import (
    LoginForm,
    NewPasswordForm,
    ResendActivationForm,
    ResetRequestForm,
    SignUpForm,
)
from users.protection import limit_per_client

SIGNED_UP_EMAIL = "users.signed_up_email"
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
    form = SignUpForm(_posted(request))
    if request.method == "POST" and form.is_valid() and _create_account(form):
        request.session[SIGNED_UP_EMAIL] = form.instance.email
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


def _posted(request: HttpRequest) -> QueryDict | None:
    # `request.POST or None` would treat an empty POST as a fresh GET.
    return request.POST if request.method == "POST" else None


@require_http_methods(["GET"])
def sign_up_done(request: HttpRequest) -> HttpResponse:
    email = request.session.get(SIGNED_UP_EMAIL, "")
    return render(request, "users/sign_up_done.html", {"email": email})


@require_http_methods(["GET"])
def activate(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    outcome = follow_activation_link(uidb64, token)
    if outcome == LinkOutcome.DEACTIVATED:
        return render(request, "users/account_deactivated.html", status=403)
    if outcome == LinkOutcome.INVALID:
        return render(request, "users/activation_invalid.html", status=400)
    messages.success(request, "Your account is active. Sign in to get started.")
    return redirect("users:sign-in")


@require_http_methods(["GET", "POST"])
@limit_per_client("users.activation_resend", "RATELIMIT_ACCOUNT_EMAILS")
def resend_activation(request: HttpRequest) -> HttpResponse:
    form = ResendActivationForm(
        _posted(request), initial={"email": request.GET.get("email", "")}
    )
    if request.method == "POST" and form.is_valid():
        form.save()
        # One answer whatever happened, so the page reveals no account.
        messages.success(request, RESEND_ANSWER)
        return redirect("users:activation-resend")
    return render(request, "users/activation_resend.html", {"form": form})


class SignInView(auth_views.LoginView):
    """LoginView follows `next` only when url_has_allowed_host_and_scheme allows."""

    authentication_form = LoginForm
    template_name = "users/sign_in.html"
    redirect_authenticated_user = True


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


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = NewPasswordForm
    template_name = "users/password_reset_confirm.html"
    success_url = reverse_lazy("users:password-reset-complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "users/password_reset_complete.html"
