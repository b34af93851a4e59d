"""The delivery log: everyone's own emails; every delivery for Admins and Managers."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from notifications import outbox
from notifications.models import Delivery
from tasks.models import Task
from users.models import User

PAGE_SIZE = 25
SEARCH_MAX_LENGTH = 254  # the longest email address: nothing longer can match


@login_required
@require_GET
def delivery_list(request: HttpRequest) -> HttpResponse:
    is_manager = request.user.is_manager
    filters = chosen_filters(request.GET)
    search = recipient_search(request.GET) if is_manager else ""
    deliveries = visible_to(request.user, is_manager).filter(**filters)
    deliveries = search_recipients(deliveries, search)
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    label_tasks(page.object_list)
    context = {
        "page": page,
        "is_manager": is_manager,
        "filters": filters,
        "search": search,
        "statuses": Delivery.Status.choices,
        "kinds": Delivery.Kind.choices,
        "query": without_page(request.GET),
    }
    return render(request, "notifications/delivery_list.html", context)


def visible_to(user: User, is_manager: bool) -> QuerySet[Delivery]:
    deliveries = Delivery.objects.select_related("recipient")
    return deliveries if is_manager else deliveries.filter(recipient=user)


def label_tasks(deliveries: Iterable[Delivery]) -> None:
    """Assignment rows keep only the task id: one query finds every title."""
    deliveries = list(deliveries)
    task_ids = {d.context.get("task_id") for d in deliveries}
    titles = dict(Task.objects.filter(pk__in=task_ids).values_list("pk", "title"))
    for delivery in deliveries:
        snapshot = delivery.context.get("title")  # a deleted task's snapshot
        delivery.task_title = snapshot or titles.get(delivery.context.get("task_id"))


def chosen_filters(params: QueryDict) -> dict[str, str]:
    """Only known values: anything else in the query string is ignored."""
    allowed = {"status": Delivery.Status.values, "kind": Delivery.Kind.values}
    return {
        name: params[name]
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
def resend_delivery(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_manager:
        raise PermissionDenied("Only Admins and Managers re-send emails.")
    delivery = get_object_or_404(Delivery, pk=pk)
    if outbox.resend([delivery.pk]):
        messages.success(request, f"Email #{delivery.pk} is queued to be sent again.")
    else:
        messages.info(request, f"Email #{delivery.pk} has not failed: nothing to do.")
    return redirect(back_to_log(request))


def back_to_log(request: HttpRequest) -> str:
    """Back to the page and filters the button was pressed on, if it is ours."""
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    log = reverse("notifications:list")
    return target if safe and target.startswith(log) else log
