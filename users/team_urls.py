from __future__ import annotations

from django.urls import path

from users import team

app_name = "team"

urlpatterns = [
    path("", team.team, name="team"),
    path("invite/", team.invite_person, name="invite"),
    path("people/<int:pk>/role/", team.change_role, name="role"),
    path("people/<int:pk>/approve/", team.approve, name="approve"),
    path("people/<int:pk>/deactivate/", team.deactivate, name="deactivate"),
    path("people/<int:pk>/reactivate/", team.reactivate, name="reactivate"),
    path(
        "invitations/<int:pk>/resend/", team.resend_invitation, name="invitation-resend"
    ),
    path("invitations/<int:pk>/revoke/", team.revoke, name="invitation-revoke"),
]
