from __future__ import annotations

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.delivery_list, name="list"),
    path("<int:pk>/resend/", views.resend_delivery, name="resend"),
]
