"""Watchers on the task page: who watches and why, Watch and Stop watching for
anyone who may see the task, Managers adding watchers."""

from __future__ import annotations

import pytest
from django.test import Client

from tasks.models import Task, Watch
from tasks.watching import unwatch, watchers, watchers_of
from tests.factories import ManagerFactory, TaskFactory, UserFactory
from users.models import Role, User

pytestmark = pytest.mark.django_db


def employee() -> User:
    return UserFactory(role=Role.EMPLOYEE)


def names(task: Task) -> dict[str, str]:
    return {person.username: part for person, part in watchers(task)}


class TestWhoWatches:
    def test_creator_and_assignees_watch_without_asking(self) -> None:
        creator, ann = ManagerFactory(), employee()
        task = TaskFactory(created_by=creator, assigned_to=[ann])
        assert names(task) == {creator.username: "created", ann.username: "assigned"}

    def test_an_assignee_who_stopped_stays_stopped_when_assigned_again(self) -> None:
        ann = employee()
        task = TaskFactory(assigned_to=[ann])
        unwatch(task, ann)
        task.assigned_to.remove(ann)
        task.assigned_to.add(ann)
        assert names(task) == {}
        assert watchers_of([task.pk])[task.pk].stopped == {ann.pk}


class TestThePage:
    def test_the_page_lists_the_watchers_and_why(self, client: Client) -> None:
        creator, ann = ManagerFactory(first_name="Mia", last_name="Lee"), employee()
        task = TaskFactory(created_by=creator, assigned_to=[ann])
        client.force_login(ann)
        page = client.get(f"/tasks/{task.pk}/").text
        assert 'data-testid="watchers"' in page
        assert "Mia Lee" in page and "creator" in page and "assignee" in page
        assert "Stop watching" in page
        assert "Add a watcher" not in page  # Managers only

    def test_a_manager_watches_and_stops_watching(self, client: Client) -> None:
        boss, task = ManagerFactory(), TaskFactory()
        client.force_login(boss)
        answer = client.post(f"/tasks/{task.pk}/watch/")
        assert answer["Location"] == f"/tasks/{task.pk}/#watchers"
        assert names(task) == {boss.username: "watching"}
        client.post(f"/tasks/{task.pk}/unwatch/")
        assert names(task) == {}
        assert Watch.objects.get(user=boss).watching is False

    def test_watching_is_post_only(self, client: Client) -> None:
        ann = employee()
        task = TaskFactory(assigned_to=[ann])
        client.force_login(ann)
        assert client.get(f"/tasks/{task.pk}/watch/").status_code == 405
        assert client.get(f"/tasks/{task.pk}/unwatch/").status_code == 405

    def test_nobody_watches_a_task_they_cannot_see(self, client: Client) -> None:
        task, outsider = TaskFactory(), employee()
        client.force_login(outsider)
        assert client.post(f"/tasks/{task.pk}/watch/").status_code == 403
        assert not Watch.objects.exists()


class TestManagersAddWatchers:
    def test_a_manager_adds_someone_who_can_see_the_task(self, client: Client) -> None:
        boss, other, ann = ManagerFactory(), ManagerFactory(), employee()
        task = TaskFactory(assigned_to=[ann])
        client.force_login(boss)
        page = client.get(f"/tasks/{task.pk}/").text
        assert f'<option value="{other.pk}">' in page
        assert f'<option value="{ann.pk}">' not in page  # already watching
        client.post(f"/tasks/{task.pk}/watchers/", {"person": other.pk})
        assert names(task)[other.username] == "watching"
        assert Watch.objects.get(user=other).added_by == boss

    def test_someone_who_cannot_see_the_task_is_not_added(self, client: Client) -> None:
        boss, outsider, task = ManagerFactory(), employee(), TaskFactory()
        client.force_login(boss)
        page = client.get(f"/tasks/{task.pk}/").text
        # The "Add a watcher" select (the "Assign someone" one lists everyone).
        watcher_select = page.partition('id="id_watcher"')[2].partition("</select>")[0]
        assert f'<option value="{outsider.pk}">' not in watcher_select
        for value in (outsider.pk, "nobody", "99999999999999999999999"):
            answer = client.post(
                f"/tasks/{task.pk}/watchers/", {"person": value}, follow=True
            )
            assert "Choose someone who can see this task." in answer.text
        assert not Watch.objects.exists()

    def test_employees_cannot_add_watchers(self, client: Client) -> None:
        ann, bob = employee(), employee()
        task = TaskFactory(assigned_to=[ann, bob])
        client.force_login(ann)
        answer = client.post(f"/tasks/{task.pk}/watchers/", {"person": bob.pk})
        assert answer.status_code == 403
        assert not Watch.objects.exists()
