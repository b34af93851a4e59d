from __future__ import annotations

from anymail import urls as anymail_urls
from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, include, path

from notifications import views as notification_views
from project.health import healthz
from tasks.views import home


def inbound_webhooks() -> list[URLPattern]:
    """anymail's URLs, but only its inbound webhooks."""
    return [
        pattern
        for pattern in anymail_urls.urlpatterns
        if isinstance(pattern, URLPattern)
        and str(pattern.name).endswith("_inbound_webhook")
    ]


urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("metrics", notification_views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("users/", include("users.urls")),
    path("team/", include("users.team_urls")),
    path("tasks/", include("tasks.urls")),
    path("notifications/", include("notifications.urls")),
    # A person's private feed of their tasks' due dates (notifications/calendars.py).
    path(
        "calendar/<str:token>.ics",
        notification_views.calendar_feed,
        name="calendar-feed",
    ),
    # ESPs' inbound webhooks (notifications/receivers.py answers); their tracking
    # webhooks are under /notifications/webhooks/<esp>/ (notifications/views.py).
    path("anymail/", include(inbound_webhooks())),
]

if settings.DEBUG_TOOLBAR:
    urlpatterns += [path("__debug__/", include("debug_toolbar.urls"))]
