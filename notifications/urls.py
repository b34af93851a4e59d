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
    path("preferences/", views.preferences, name="preferences"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("preview/", views.preview_list, name="previews"),
    path("preview/<str:kind>.<str:part>", views.preview_email, name="preview"),
    path("suppressions/", views.suppression_list, name="suppressions"),
    path(
        "suppressions/<int:pk>/lift/", views.lift_suppression, name="lift-suppression"
    ),
    path("webhooks/<str:esp>/", views.tracking_webhook, name="tracking-webhook"),
]
