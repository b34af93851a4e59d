"""Levels per project (Watching, Participating, Mentions only, Off) over a
default of one's own: chosen in the email settings and on the project's page."""

from __future__ import annotations

import pytest
from django.test import Client

from notifications.kinds import PREFERENCE_KINDS
from notifications.levels import default_level, levels_for, project_levels
from notifications.models import NotificationLevel
from tests.factories import ManagerFactory, ProjectFactory, TaskFactory, UserFactory
from users.models import Role

pytestmark = pytest.mark.django_db
Level = NotificationLevel.Level
PAGE = "/notifications/preferences/"


def settings_form(**fields: str) -> dict[str, str]:
    """The email settings as submitted: every kind right away, and `fields`."""
    base = dict.fromkeys(PREFERENCE_KINDS, "immediate")
    return {
        **base,
        "digest_time": "08:00",
        "default_level": "participating",
        **fields,
    }


class TestEmailSettings:
    def test_the_page_lists_the_projects_the_person_sees(self, client: Client) -> None:
        ann = UserFactory(role=Role.EMPLOYEE)
        mine = TaskFactory(assigned_to=[ann]).project
        other = ProjectFactory(name="Not mine at all")
        client.force_login(ann)
        page = client.get(PAGE).text
        assert f'name="project_{mine.pk}"' in page
        assert f'name="project_{other.pk}"' not in page
        assert "My default (Participating)" in page

    def test_a_default_and_one_project_are_saved(self, client: Client) -> None:
        boss = ManagerFactory()
        loud, quiet = ProjectFactory(), ProjectFactory()
        client.force_login(boss)
        answer = client.post(
            PAGE,
            settings_form(
                default_level="mentions",
                **{f"project_{loud.pk}": "watching", f"project_{quiet.pk}": ""},
            ),
        )
        assert answer.status_code == 302
        assert default_level(boss) == Level.MENTIONS
        assert project_levels(boss) == {loud.pk: Level.WATCHING}
        assert levels_for([(boss.pk, loud.pk), (boss.pk, quiet.pk)]) == {
            (boss.pk, loud.pk): Level.WATCHING,
            (boss.pk, quiet.pk): Level.MENTIONS,
        }

    def test_back_to_the_default_removes_the_projects_choice(
        self, client: Client
    ) -> None:
        boss, project = ManagerFactory(), ProjectFactory()
        client.force_login(boss)
        client.post(PAGE, settings_form(**{f"project_{project.pk}": "off"}))
        client.post(PAGE, settings_form(**{f"project_{project.pk}": ""}))
        assert project_levels(boss) == {}

    def test_an_unknown_level_is_refused(self, client: Client) -> None:
        client.force_login(ManagerFactory())
        page = client.post(PAGE, settings_form(default_level="loud"))
        assert page.status_code == 200
        assert "Select a valid choice" in page.text
        assert not NotificationLevel.objects.exists()


class TestOnTheProjectPage:
    def test_a_manager_chooses_from_the_projects_page(self, client: Client) -> None:
        boss, project = ManagerFactory(), ProjectFactory(name="Website")
        client.force_login(boss)
        page = client.get(f"/tasks/projects/{project.pk}/edit/")
        assert "Your emails about this project" in page.text
        answer = client.post(
            f"/notifications/projects/{project.pk}/level/",
            {"level": "watching", "next": f"/tasks/projects/{project.pk}/edit/"},
            follow=True,
        )
        assert answer.redirect_chain[-1][0] == f"/tasks/projects/{project.pk}/edit/"
        assert "Emails about “Website”: Watching." in answer.text
        assert project_levels(boss) == {project.pk: Level.WATCHING}

    def test_nobody_chooses_for_a_project_they_do_not_see(self, client: Client) -> None:
        project = ProjectFactory()
        client.force_login(UserFactory(role=Role.EMPLOYEE))
        answer = client.post(
            f"/notifications/projects/{project.pk}/level/", {"level": "watching"}
        )
        assert answer.status_code == 404
        assert not NotificationLevel.objects.exists()

    def test_it_goes_back_only_to_our_own_pages(self, client: Client) -> None:
        boss, project = ManagerFactory(), ProjectFactory()
        client.force_login(boss)
        answer = client.post(
            f"/notifications/projects/{project.pk}/level/",
            {"level": "off", "next": "https://evil.example/"},
        )
        assert answer["Location"] == PAGE
