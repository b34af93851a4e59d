from __future__ import annotations

from django.urls import path

from tasks import board, views

app_name = "tasks"

urlpatterns = [
    path("", views.task_list, name="list"),
    path("create/", views.task_create, name="create"),
    path("board/", board.my_board, name="board"),
    path("bulk/", views.task_bulk, name="bulk"),
    path("<int:pk>/", views.task_detail, name="detail"),
    path("<int:pk>/edit/", views.task_edit, name="edit"),
    path("<int:pk>/status/", views.task_status, name="status"),
    path("<int:pk>/move/", board.task_move, name="move"),
    path("<int:pk>/due-date/", views.task_due_date, name="due-date"),
    path("<int:pk>/assign/", views.task_assign, name="assign"),
    path("<int:pk>/comments/", views.task_comment, name="comment"),
    path("<int:pk>/mentions/", views.mention_suggestions, name="mentions"),
    path("<int:pk>/watch/", views.task_watch, name="watch"),
    path("<int:pk>/unwatch/", views.task_unwatch, name="unwatch"),
    path("<int:pk>/watchers/", views.task_add_watcher, name="add-watcher"),
    path("<int:pk>/delete/", views.task_delete, name="delete"),
    path("projects/", views.project_list, name="project-list"),
    path("projects/create/", views.project_create, name="project-create"),
    path("projects/<int:pk>/", views.project_detail, name="project"),
    path("projects/<int:pk>/board/", board.project_board, name="project-board"),
    path(
        "projects/<int:pk>/members/",
        views.project_add_member,
        name="project-add-member",
    ),
    path(
        "projects/<int:pk>/members/<int:user_pk>/remove/",
        views.project_remove_member,
        name="project-remove-member",
    ),
    path("projects/<int:pk>/edit/", views.project_edit, name="project-edit"),
    path("projects/<int:pk>/delete/", views.project_delete, name="project-delete"),
]
