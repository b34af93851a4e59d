"""The delivery log: everyone's own emails; every delivery for Admins and Managers.
Also the inbox in the app (notifications/inbox.py), the email settings, the
pages an email's links open, and the ESPs' tracking webhooks (django-anymail's
views)."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from http import HTTPStatus

from anymail import urls as anymail_urls
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)
from prometheus_client import CONTENT_TYPE_LATEST

from notifications import (
    calendars,
    feedback,
    inbox,
    levels,
    mutes,
    operations,
    previews,
)
from notifications import preferences as prefs
from notifications.forms import PreferencesForm, ProjectLevelForm, RemindersForm
from notifications.metrics import exposition, oldest_due_age
from notifications.models import (
    Complaint,
    Delivery,
    DigestSchedule,
    SendingPause,
    Suppression,
)
from tasks.models import Project, Task
from tasks.permissions import ensure_can_view_task, visible_projects
from ui.http import paginate, safe_next
from users.http import AuthenticatedRequest
from users.models import User

PAGE_SIZE = 25
SEARCH_MAX_LENGTH = 254  # the longest email address: nothing longer can match


@login_required
@require_GET
def delivery_list(request: AuthenticatedRequest) -> HttpResponse:
    is_manager = request.user.is_manager
    filters = chosen_filters(request.GET)
    search = recipient_search(request.GET) if is_manager else ""
    deliveries = visible_to(request.user, is_manager).filter(**filters)
    deliveries = search_recipients(deliveries, search)
    page = paginate(request, deliveries, PAGE_SIZE)
    context = {
        "page": page,
        "is_manager": is_manager,
        # Which relay sent each email is worth a line once there are two.
        "show_relay": bool(settings.EMAIL_FALLBACK_HOST),
        "outbox": outbox_health() if is_manager else None,
        "is_admin": request.user.is_admin,
        "pause": SendingPause.objects.current(),
        "suppressions": Suppression.objects.count() if is_manager else 0,
        "filters": filters,
        "search": search,
        "statuses": Delivery.Status.choices,
        "kinds": Delivery.Kind.choices,
        "query": without_page(request.GET),
    }
    return render(request, "notifications/delivery_list.html", context)


def outbox_health() -> dict[str, float | bool]:
    age = oldest_due_age(timezone.now())
    return {"age": age, "lagging": age > settings.NOTIFICATIONS_LAG_THRESHOLD}


def visible_to(user: User, is_manager: bool) -> QuerySet[Delivery]:
    deliveries = Delivery.objects.select_related("recipient").prefetch_related(
        "complaints"
    )
    return deliveries if is_manager else deliveries.filter(recipient=user)


def chosen_filters(params: QueryDict) -> dict[str, str]:
    """Only known values: anything else in the query string is ignored."""
    allowed = {"status": Delivery.Status.values, "kind": Delivery.Kind.values}
    return {
        name: params.get(name, "")
        for name, values in allowed.items()
        if params.get(name) in values
    }


def recipient_search(params: QueryDict) -> str:
    """The recipient search text; one longer than any address is a bad request."""
    text = params.get("q", "").strip()
    if len(text) > SEARCH_MAX_LENGTH:
        raise BadRequest("The recipient search is longer than any username or email.")
    return text


def search_recipients(deliveries: QuerySet[Delivery], text: str) -> QuerySet[Delivery]:
    """Deliveries whose recipient's username or email contains the text."""
    if not text:
        return deliveries
    return deliveries.filter(
        Q(recipient__username__icontains=text) | Q(recipient__email__icontains=text)
    )


def without_page(params: QueryDict) -> str:
    query = params.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
@require_POST
def resend_delivery(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    if not request.user.is_manager:
        raise PermissionDenied("Only Admins and Managers re-send emails.")
    delivery = get_object_or_404(Delivery, pk=pk)
    if operations.resend([delivery.pk]):
        messages.success(request, f"Email #{delivery.pk} is queued to be sent again.")
    else:
        messages.info(request, f"Email #{delivery.pk} has not failed: nothing to do.")
    return redirect(back_to_log(request))


@login_required
@require_POST
def cancel_delivery(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    ensure_admin(request.user)
    delivery = get_object_or_404(Delivery, pk=pk)
    if operations.cancel([delivery.pk]):
        messages.success(
            request, f"Email #{delivery.pk} is cancelled: it will not go out."
        )
    else:
        messages.info(
            request, f"Email #{delivery.pk} is no longer queued: nothing to do."
        )
    return redirect(back_to_log(request))


@login_required
@require_POST
def pause_sending(request: AuthenticatedRequest) -> HttpResponse:
    ensure_admin(request.user)
    if operations.pause_sending(request.user):
        messages.warning(
            request, "Sending is paused. Queued emails wait until you resume."
        )
    return redirect(back_to_log(request))


@login_required
@require_POST
def resume_sending(request: AuthenticatedRequest) -> HttpResponse:
    ensure_admin(request.user)
    if operations.resume_sending():
        messages.success(request, "Sending resumed: the emails that waited go out now.")
    return redirect(back_to_log(request))


@login_required
@require_GET
def suppression_list(request: AuthenticatedRequest) -> HttpResponse:
    if not request.user.is_manager:
        raise PermissionDenied("Only Admins and Managers see suppressed addresses.")
    suppressions = Suppression.objects.select_related("delivery")
    page = paginate(request, suppressions, PAGE_SIZE)
    context = {"page": page, "is_admin": request.user.is_admin}
    return render(request, "notifications/suppression_list.html", context)


@login_required
@require_POST
def lift_suppression(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    ensure_admin(request.user)
    suppression = get_object_or_404(Suppression, pk=pk)
    suppression.delete()
    messages.success(request, f"{suppression.address} can receive email again.")
    return redirect("notifications:suppressions")


def ensure_admin(user: User) -> None:
    if not user.is_admin:
        raise PermissionDenied("Only Admins run the mail pipeline.")


def back_to_log(request: HttpRequest) -> str:
    """Back to the page and filters the button was pressed on, if it is ours."""
    log = reverse("notifications:list")
    target = safe_next(request, log)
    return target if target.startswith(log) else log


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    schedule = prefs.digest_schedule(user)
    form = PreferencesForm(
        request.POST if request.method == "POST" else None,
        modes=prefs.modes_of(user),
        projects=projects_with_levels(user),
        initial={
            "digest_time": schedule.send_at,
            **timing_initial(schedule),
            "default_level": levels.default_level(user),
        },
    )
    reminders = RemindersForm(
        request.POST if request.method == "POST" else None,
        initial={name: getattr(schedule, name) for name in RemindersForm.base_fields},
    )
    if request.method == "POST" and form.is_valid() and reminders.is_valid():
        save_preferences(user, form, schedule)
        reminders.save(schedule)
        messages.success(request, "Your email preferences are saved.")
        return redirect("notifications:preferences")
    complaint = Complaint.objects.standing().filter(user=request.user).first()
    feed = calendars.feed_of(user)
    context = {
        "form": form,
        "reminders": reminders,
        "complaint": complaint,
        "calendar_link": calendars.feed_link(feed) if feed else "",
        # Set on the profile only: one place for a person's time zone.
        "time_zone": user.zone.key.replace("_", " "),
    }
    return render(request, "notifications/preferences.html", context)


@login_required
@require_POST
def calendar_feed_settings(request: AuthenticatedRequest) -> HttpResponse:
    """A new link to one's calendar feed (every earlier link stops working),
    or none at all."""
    if request.POST.get("action") == "off":
        calendars.stop_feed(request.user)
        messages.success(request, "Your calendar link is turned off.")
    else:
        calendars.start_feed(request.user)
        messages.success(
            request, "Your calendar has a new link; any earlier one no longer works."
        )
    return redirect(reverse("notifications:preferences") + "#calendar")


# Calendar apps poll the feed without a session: the signed token is the
# authority, and it only reads.
@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    owner = calendars.owner_of(token)
    if owner is None:
        raise Http404("No such calendar")
    response = HttpResponse(
        calendars.feed_calendar(owner), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="tasks.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
@require_POST
def resume_notification_emails(request: AuthenticatedRequest) -> HttpResponse:
    """After a complaint (this person marked our email as spam): they want
    their notification emails again."""
    if feedback.turn_emails_back_on(request.user):
        messages.success(request, "Notification emails are on again.")
    return redirect("notifications:preferences")


def timing_initial(schedule: DigestSchedule) -> dict[str, object]:
    """When this person's emails go, as the form shows it."""
    window = schedule.coalesce_seconds
    return {
        "coalesce": "" if window is None else str(window),
        "quiet_from": schedule.quiet_from,
        "quiet_until": schedule.quiet_until,
        "quiet_days": list(schedule.quiet_days),
    }


def projects_with_levels(user: User) -> list[tuple[Project, str]]:
    """The projects this person sees, each with the level they chose ("": none)."""
    chosen = levels.project_levels(user)
    projects = visible_projects(user, is_manager=user.is_manager).order_by("name")
    return [(project, chosen.get(project.pk, "")) for project in projects]


def save_preferences(
    user: User, form: PreferencesForm, schedule: DigestSchedule
) -> None:
    prefs.set_modes(user, form.modes())
    levels.set_default(user, form.cleaned_data["default_level"])
    for project, level in form.levels().items():
        levels.set_level(user, project, level)
    schedule.send_at = form.cleaned_data["digest_time"]
    timing = form.timing()
    for name, value in timing.items():
        setattr(schedule, name, value)
    schedule.save(update_fields=["send_at", *timing])


# One-click unsubscribe comes from mail clients: no session, no CSRF token. The
# signed token in the URL is the authority, and it can only turn email off.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    found = prefs.read_unsubscribe_token(token)
    if found is None:
        response = render(request, "notifications/unsubscribe_invalid.html")
        response.status_code = HTTPStatus.BAD_REQUEST
        return response
    user_id, kind = found
    context = {
        "kind": Delivery.Kind(kind).label,
        "digest": kind == Delivery.Kind.DIGEST,
    }
    if request.method == "POST":
        prefs.turn_off(user_id, kind)
        return render(request, "notifications/unsubscribed.html", context)
    return render(request, "notifications/unsubscribe.html", context)


@login_required
@require_GET
def preview_list(request: AuthenticatedRequest) -> HttpResponse:
    ensure_admin(request.user)
    emails = []
    for kind, label in [*Delivery.Kind.choices, *previews.EXTRA.items()]:
        message = previews.preview(kind)
        preheader = previews.preheader_of(previews.html_of(message))
        emails.append((kind, label, message.subject, preheader))
    return render(request, "notifications/preview_list.html", {"emails": emails})


# Emails style every element inline (mail clients drop style sheets): this page
# alone, which shows our own templates on sample data, allows inline styles.
@csp_update({"style-src": ["'unsafe-inline'"]})  # type: ignore[arg-type]
@login_required
@require_GET
def preview_email(request: AuthenticatedRequest, kind: str, part: str) -> HttpResponse:
    """One email as its recipient would see it: the HTML page, or the text."""
    ensure_admin(request.user)
    known = (*Delivery.Kind.values, *previews.EXTRA)
    if kind not in known or part not in ("html", "text"):
        raise Http404("No such email.")
    message = previews.preview(kind)
    if part == "text":
        return HttpResponse(message.body, content_type="text/plain; charset=utf-8")
    return HttpResponse(previews.html_of(message))


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text, for "Authorization: Bearer <METRICS_TOKEN>" only.

    Without a configured token, or with a wrong one, the page does not exist.
    """
    token: str = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if not token or not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise Http404("No such page.")
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


# Muting a task from its email: no session, as for unsubscribing. The signed
# token in the URL is the authority, and it can only mute. GET and HEAD (link
# scanners, mail previews) show the page and change nothing; its button POSTs.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def mute(request: HttpRequest, token: str) -> HttpResponse:
    found = mutes.read_mute_token(token)
    if found is None:
        response = render(request, "notifications/mute_invalid.html")
        response.status_code = HTTPStatus.BAD_REQUEST
        return response
    user_id, task_id = found
    title = Task.objects.filter(pk=task_id).values_list("title", flat=True).first()
    context = {"title": title, "task_id": task_id}
    if request.method == "POST":
        mutes.mute(user_id, task_id)
        return render(request, "notifications/muted.html", context)
    return render(request, "notifications/mute.html", context)


@login_required
@require_POST
def mute_task(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Mute from the task's page, for the person signed in."""
    task = get_object_or_404(Task, pk=pk)
    ensure_can_view_task(request.user, task, is_manager=request.user.is_manager)
    mutes.mute(request.user.pk, task.pk)
    messages.success(request, "Muted: no more emails about this task, but mentions.")
    return redirect(f"{task.get_absolute_url()}#watchers")


@login_required
@require_POST
def unmute_task(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(Task, pk=pk)
    ensure_can_view_task(request.user, task, is_manager=request.user.is_manager)
    mutes.unmute(request.user.pk, task.pk)
    messages.success(request, "Unmuted: emails about this task come as you chose.")
    return redirect(f"{task.get_absolute_url()}#watchers")


@login_required
@require_POST
def project_level(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One project's level, from its page: back there, with what changed."""
    projects = visible_projects(request.user, is_manager=request.user.is_manager)
    project = get_object_or_404(projects, pk=pk)
    form = ProjectLevelForm(request.POST)
    if form.is_valid():
        levels.set_level(request.user, project, form.cleaned_data["level"])
        said = form.level_label()
        messages.success(request, f"Emails about “{project}”: {said}.")
    else:
        messages.error(request, "Choose one of the listed levels.")
    return redirect(safe_next(request, reverse("notifications:preferences")))


# Anymail's tracking view of each ESP, by the name in its URL: "postmark", ...
TRACKING_WEBHOOKS: dict[str, Callable[..., HttpResponse]] = {
    str(pattern.name).removesuffix("_tracking_webhook"): pattern.callback
    for pattern in anymail_urls.urlpatterns
    if str(pattern.name).endswith("_tracking_webhook")
}


@csrf_exempt
def tracking_webhook(request: HttpRequest, esp: str) -> HttpResponse:
    """An ESP's tracking webhook, taken by anymail's view for that ESP: it
    checks the basic-auth secret (ANYMAIL_WEBHOOK_SECRET) and, for an ESP that
    signs, the signature, then sends the tracking signal (receivers.py). Without
    a secret configured there is no such page: anyone could post events."""
    view = TRACKING_WEBHOOKS.get(esp)
    if view is None or not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        raise Http404
    return view(request)


# The inbox in the app -------------------------------------------------------------


@login_required
@require_GET
def inbox_page(request: AuthenticatedRequest) -> HttpResponse:
    show = request.GET.get("show", "")
    if show not in inbox.Show.values:
        show = inbox.Show.ALL
    page = inbox.page_of(request.user.pk, show, request.GET.get("page"))
    context = {
        "page": page,
        "show": show,
        "views": inbox.Show.choices,
        "inbox_unread": inbox.unread_count(request.user.pk),  # the bell's too
    }
    return render(request, "notifications/inbox.html", context)


@login_required
@require_POST
def inbox_read_task(request: AuthenticatedRequest, task_id: int) -> HttpResponse:
    title = inbox.title_of(request.user.pk, task_id)
    inbox.read_task(request.user.pk, task_id)
    messages.success(request, f"{title}: marked read.")
    return redirect(back_to_inbox(request, f"#task-{task_id}"))


@login_required
@require_POST
def inbox_read_all(request: AuthenticatedRequest) -> HttpResponse:
    inbox.read_all(request.user.pk)
    messages.success(request, "Every notification is marked read.")
    return redirect(back_to_inbox(request))


@login_required
@require_POST
def inbox_archive_task(request: AuthenticatedRequest, task_id: int) -> HttpResponse:
    title = inbox.title_of(request.user.pk, task_id)
    inbox.archive_task(request.user.pk, task_id)
    messages.success(request, f"{title} archived: it is under Archived.")
    return redirect(back_to_inbox(request))


@login_required
@require_POST
def inbox_restore_task(request: AuthenticatedRequest, task_id: int) -> HttpResponse:
    title = inbox.title_of(request.user.pk, task_id)
    inbox.restore_task(request.user.pk, task_id)
    messages.success(request, f"{title} is back in your inbox.")
    return redirect(back_to_inbox(request))


def back_to_inbox(request: HttpRequest, fragment: str = "") -> str:
    """Back to the view and page the button was pressed on, if it is ours."""
    page = reverse("notifications:inbox")
    target = safe_next(request, page)
    return (target if target.startswith(page) else page) + fragment


# Polled by the bell on every page (htmx), never cached. Signed out (the session
# ended) it answers 286, which stops htmx polling and removes the bell, rather
# than a redirect to sign in, which would take the whole page there.
@never_cache
@require_GET
def inbox_bell(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return bare(286)
    unread = inbox.unread_count(request.user.pk)
    if request.GET.get("shown") == str(unread):
        return bare(HTTPStatus.NO_CONTENT)  # htmx swaps nothing
    here = request.GET.get("here") == "1"  # the page polling is the inbox
    context = inbox.bell(unread, here=here, announce=True)
    return render(request, "notifications/_bell.html", context)


def bare(code: int) -> HttpResponse:
    """An answer without a body, with this code."""
    response = HttpResponse()
    response.status_code = code
    return response
