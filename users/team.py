"""/team/: the people of the team, their roles, and invitations.

Admins invite, set roles, approve self sign-ups, deactivate and reactivate;
Managers see the page without its controls; Employees are refused. Every
change is a POST answered with a redirect back to the page and a message.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from users.accounts import (
    TeamRefusal,
    approve_account,
    deactivate_account,
    invite,
    pending_invitations,
    reactivate_account,
    revoke_invitation,
    send_invitation_again,
    set_role,
)
from users.forms import InviteForm, RoleForm
from users.http import AuthenticatedRequest
from users.models import Invitation, Role, User
from users.tokens import lasts

View = Callable[..., HttpResponse]


def admin_only(view: View) -> View:
    """Sign-in redirect for anonymous visitors, 403 for anyone but an Admin."""

    @login_required
    @require_POST
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not cast(User, request.user).is_admin:
            raise PermissionDenied("Only Admins change the team.")
        return view(request, *args, **kwargs)

    return guarded


def team_members() -> QuerySet[User]:
    """Everyone who ever got in: activated accounts, whether on or off now."""
    return (
        User.objects.filter(activated_at__isnull=False)
        .prefetch_related("groups")
        .order_by("-is_active", "first_name", "last_name", "username")
    )


@login_required
@require_GET
def team(request: AuthenticatedRequest) -> HttpResponse:
    if not request.user.is_manager:
        raise PermissionDenied("Only Managers and Admins see the team.")
    return team_page(request, InviteForm())


def team_page(
    request: AuthenticatedRequest, invite_form: InviteForm, status: int = 200
) -> HttpResponse:
    people = list(team_members())
    context = {
        "active": [p for p in people if p.is_active and p.is_approved],
        "waiting": [p for p in people if p.is_active and not p.is_approved],
        "deactivated": [person for person in people if not person.is_active],
        "invitations": list(pending_invitations()),
        "invite_form": invite_form,
        "roles": Role.choices,
        "can_change": request.user.is_admin,
        "valid_for": lasts(settings.PASSWORD_RESET_TIMEOUT),
    }
    return render(request, "users/team.html", context, status=status)


@admin_only
def invite_person(request: AuthenticatedRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    if not form.is_valid():
        return team_page(request, form, status=400)
    data = form.cleaned_data
    invite(
        data["email"],
        data["role"],
        by=request.user,
        first_name=data["first_name"],
        last_name=data["last_name"],
    )
    messages.success(request, f"Invitation sent to {data['email']}.")
    return redirect("team:team")


def person_of(pk: int) -> User:
    return get_object_or_404(User.objects.filter(~Q(activated_at=None)), pk=pk)


@admin_only
def change_role(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    person, form = person_of(pk), RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose Admin, Manager or Employee.")
        return redirect("team:team")
    role = form.cleaned_data["role"]
    try:
        set_role(person, role)
    except TeamRefusal as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, f"{person} is now {an(role)}.")
    return redirect("team:team")


def an(role: str) -> str:
    return f"an {role}" if role[0] in "AEIOU" else f"a {role}"


@admin_only
def approve(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    person = person_of(pk)
    if approve_account(person):
        messages.success(request, f"{person} is approved: they can be assigned now.")
    else:
        messages.info(request, f"{person} was approved already.")
    return redirect("team:team")


@admin_only
def deactivate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    person = person_of(pk)
    try:
        done = deactivate_account(person, by=request.user)
    except TeamRefusal as refusal:
        messages.error(request, str(refusal))
        return redirect("team:team")
    if done:
        messages.success(request, f"{person} is deactivated: they cannot sign in.")
    return redirect("team:team")


@admin_only
def reactivate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    person = person_of(pk)
    if reactivate_account(person):
        messages.success(request, f"{person} is active again, with the same role.")
    return redirect("team:team")


def invitation_of(pk: int) -> Invitation:
    return get_object_or_404(pending_invitations(), pk=pk)


@admin_only
def resend_invitation(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    invitation = invitation_of(pk)
    if send_invitation_again(invitation, by=request.user):
        messages.success(
            request,
            f"Invitation sent again to {invitation.email}; the earlier link "
            "no longer works.",
        )
    return redirect("team:team")


@admin_only
def revoke(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    invitation = invitation_of(pk)
    if revoke_invitation(invitation):
        messages.success(
            request,
            f"The invitation of {invitation.email} is revoked: its link "
            "no longer works.",
        )
    return redirect("team:team")
