from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("tasks:list")


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    return render(request, "tasks/task_list.html", {"tasks": []})
