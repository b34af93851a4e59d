from __future__ import annotations

from django.urls import path

from users import views

app_name = "users"

urlpatterns = [
    path("sign-up/", views.sign_up, name="sign-up"),
    path("sign-up/done/", views.sign_up_done, name="sign-up-done"),
    path("sign-in/", views.SignInView.as_view(), name="sign-in"),
    path("sign-out/", views.SignOutView.as_view(), name="sign-out"),
    path("activate/<uidb64>/<token>/", views.activate, name="activate"),
    path("activation/resend/", views.resend_activation, name="activation-resend"),
    path("welcome/", views.welcome, name="welcome"),
    path("invitations/<str:token>/", views.accept_invitation_view, name="invitation"),
    path("profile/", views.profile, name="profile"),
    path("profile/email/", views.change_email, name="email-change"),
    path("profile/theme/", views.theme, name="theme"),
    path(
        "profile/email/cancel/",
        views.cancel_email_change_view,
        name="email-change-cancel",
    ),
    path(
        "profile/password/",
        views.PasswordChangeView.as_view(),
        name="password-change",
    ),
    path(
        "email/confirm/<uidb64>/<token>/",
        views.confirm_email,
        name="email-confirm",
    ),
    path("email/restore/<token>/", views.restore_email, name="email-restore"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path(
        "password-reset/done/",
        views.PasswordResetDoneView.as_view(),
        name="password-reset-done",
    ),
    path(
        "password-reset/complete/",
        views.PasswordResetCompleteView.as_view(),
        name="password-reset-complete",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
]
