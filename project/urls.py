from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from notifications import views as notification_views
from project.health import healthz
from tasks.views import home

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("metrics", notification_views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("users/", include("users.urls")),
    path("tasks/", include("tasks.urls")),
    path("notifications/", include("notifications.urls")),
    # ESPs' webhooks: inbound mail (notifications/receivers.py answers).
    path("anymail/", include("anymail.urls")),
]

if settings.DEBUG_TOOLBAR:
    urlpatterns += [path("__debug__/", include("debug_toolbar.urls"))]
