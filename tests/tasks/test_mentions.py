"""@mentions: what counts as one, who may be mentioned, what the author is told,
and the comment box's suggestions."""

from __future__ import annotations

import pytest
from django.test import Client

from tasks.mentions import MAX_MENTIONS, mentions_in, written_names
from tasks.models import Comment, Watch
from tests.factories import ManagerFactory, TaskFactory, UserFactory
from users.models import Role, User

pytestmark = pytest.mark.django_db


def employee(username: str, **fields: object) -> User:
    return UserFactory(username=username, role=Role.EMPLOYEE, **fields)


class TestWhatIsAMention:
    def test_names_after_an_at_sign_each_once_in_order(self) -> None:
        text = "@ann and @bob.smith, then @ann again (@carl). @dee."
        assert written_names(text) == ["ann", "bob.smith", "carl", "dee."]

    def test_an_email_address_is_not_a_mention(self) -> None:
        assert written_names("write to ann@example.com or x.@y") == []

    def test_a_full_stop_ending_the_sentence_is_not_part_of_the_name(self) -> None:
        ann = employee("ann")
        task = TaskFactory(assigned_to=[ann])
        found = mentions_in(task, "Thanks @ann.", ManagerFactory())
        assert found.people == [ann] and found.refused == []


class TestWhoMayBeMentioned:
    def test_only_people_who_can_see_the_task_and_never_the_author(self) -> None:
        ann, _, boss = (
            employee("ann"),
            employee("zoe"),
            ManagerFactory(username="boss"),
        )
        task = TaskFactory(assigned_to=[ann])
        found = mentions_in(task, "@ann @zoe @boss @nobody @ann", ann)
        assert found.people == [boss]
        assert found.refused == ["zoe", "nobody"]

    def test_a_deactivated_account_cannot_be_mentioned(self) -> None:
        gone = ManagerFactory(username="gone", is_active=False)
        task = TaskFactory()
        assert mentions_in(task, "@gone", ManagerFactory()).refused == ["gone"]
        assert gone.pk


class TestCommenting:
    def test_the_author_is_told_who_was_not_notified_without_saying_who_exists(
        self, client: Client
    ) -> None:
        ann, zoe = employee("ann"), employee("zoe")
        task = TaskFactory(assigned_to=[ann])
        client.force_login(ann)
        page = client.post(
            f"/tasks/{task.pk}/comments/", {"body": "@zoe @ghost see this"}, follow=True
        )
        assert "Nobody was notified for @zoe, @ghost" in page.text
        assert list(Comment.objects.get().mentioned.all()) == []
        assert zoe.pk

    def test_the_people_mentioned_and_the_author_watch_the_task(
        self, client: Client
    ) -> None:
        ann, boss = employee("ann"), ManagerFactory(username="boss")
        task = TaskFactory(assigned_to=[ann])
        client.force_login(ann)
        client.post(f"/tasks/{task.pk}/comments/", {"body": "@boss please look"})
        assert list(Comment.objects.get().mentioned.all()) == [boss]
        watching = set(
            Watch.objects.filter(watching=True).values_list("user_id", flat=True)
        )
        assert watching == {ann.pk, boss.pk}

    def test_more_than_the_limit_of_people_is_refused(self, client: Client) -> None:
        boss = ManagerFactory()
        task = TaskFactory()
        client.force_login(boss)
        names = " ".join(f"@person{n}" for n in range(MAX_MENTIONS + 1))
        page = client.post(f"/tasks/{task.pk}/comments/", {"body": names})
        assert f"Mention at most {MAX_MENTIONS} people" in page.text
        assert not Comment.objects.exists()


class TestSuggestions:
    def test_people_who_can_see_the_task_starting_with_what_was_typed(
        self, client: Client
    ) -> None:
        ann = employee("ann", first_name="Ann", last_name="Smith")
        employee("anna", first_name="Anna", last_name="Outsider")
        andy = ManagerFactory(username="andy", first_name="Andy", last_name="Boss")
        ManagerFactory(username="bob", first_name="Bob", last_name="Other")
        task = TaskFactory(assigned_to=[ann])
        client.force_login(ann)
        found = client.get(
            f"/tasks/{task.pk}/mentions/", {"q": "an"}, HTTP_HX_REQUEST="true"
        )
        assert found.status_code == 200
        assert 'data-username="andy"' in found.text
        assert 'data-username="anna"' not in found.text  # cannot see the task
        assert 'data-username="ann"' not in found.text  # the one typing
        assert 'data-username="bob"' not in found.text
        assert 'role="option"' in found.text and andy.pk

    def test_only_someone_who_can_see_the_task_gets_suggestions(
        self, client: Client
    ) -> None:
        task = TaskFactory()
        client.force_login(employee("zoe"))
        assert client.get(f"/tasks/{task.pk}/mentions/", {"q": ""}).status_code == 403
