from __future__ import annotations

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.delivery_list, name="list"),
    path("<int:pk>/resend/", views.resend_delivery, name="resend"),
    path("<int:pk>/cancel/", views.cancel_delivery, name="cancel"),
    path("pause/", views.pause_sending, name="pause"),
    path("resume/", views.resume_sending, name="resume"),
    path("inbox/", views.inbox_page, name="inbox"),
    path("inbox/bell/", views.inbox_bell, name="bell"),
    path("inbox/read/", views.inbox_read_all, name="inbox-read-all"),
    path("inbox/tasks/<int:task_id>/read/", views.inbox_read_task, name="inbox-read"),
    path(
        "inbox/tasks/<int:task_id>/archive/",
        views.inbox_archive_task,
        name="inbox-archive",
    ),
    path(
        "inbox/tasks/<int:task_id>/restore/",
        views.inbox_restore_task,
        name="inbox-restore",
    ),
    path("preferences/", views.preferences, name="preferences"),
    path("calendar/", views.calendar_feed_settings, name="calendar"),
    path(
        "preferences/resume/",
        views.resume_notification_emails,
        name="resume-notification-emails",
    ),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("mute/<str:token>/", views.mute, name="mute"),
    path("tasks/<int:pk>/mute/", views.mute_task, name="mute-task"),
    path("tasks/<int:pk>/unmute/", views.unmute_task, name="unmute-task"),
    path("projects/<int:pk>/level/", views.project_level, name="project-level"),
    path("preview/", views.preview_list, name="previews"),
    path("preview/<str:kind>.<str:part>", views.preview_email, name="preview"),
    path("suppressions/", views.suppression_list, name="suppressions"),
    path(
        "suppressions/<int:pk>/lift/", views.lift_suppression, name="lift-suppression"
    ),
    path("webhooks/<str:esp>/", views.tracking_webhook, name="tracking-webhook"),
]
