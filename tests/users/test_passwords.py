"""Password rules and how password fields behave on the account pages."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from tests.users.test_sign_up import sign_up_data
from users.forms import SignUpForm
from users.models import User
from users.tokens import encode_uid

pytestmark = pytest.mark.django_db
SIGN_UP = "/users/sign-up/"


def password_form_errors(password: str) -> list[str]:
    form = SignUpForm(data=sign_up_data(password1=password, password2=password))
    form.is_valid()
    return list(form.errors.get("password1", []))


def field_value(page: str, field_id: str) -> str | None:
    tag = re.search(rf'<input[^>]*id="{field_id}"[^>]*>', page)
    assert tag, f"no #{field_id} on the page"
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return value.group(1) if value else None


def field_errors(page: str, field_id: str) -> str:
    errors = re.search(rf'<ul id="{field_id}_error".*?</ul>', page, re.DOTALL)
    return errors.group(0) if errors else ""


class TestSpecialCharacters:
    @pytest.mark.parametrize(
        "password",
        [
            "Tr0ub4dor-horse-battery",  # the passphrase: hyphens
            "Harbour Lights 42",  # spaces
            "Harbour_Lights_42",
            "Harbour.Lights.42",
            "Harbour€Lights42",
            "Harbour#Lights42",  # one of the course's examples still counts
        ],
    )
    def test_any_character_but_a_letter_or_digit_counts_as_special(
        self, password: str
    ) -> None:
        assert password_form_errors(password) == []

    def test_letters_and_digits_alone_are_refused_with_a_plain_reason(self) -> None:
        [error] = password_form_errors("HarbourLights42")
        assert "special character" in error
        assert "anything but a letter or a digit" in error

    def test_the_help_text_gives_the_course_examples_as_examples(
        self, client: Client
    ) -> None:
        page = client.get(SIGN_UP).text
        assert "a special character such as !@#$%^&amp;*() or -" in page


class TestErrorsShownOnce:
    def test_each_broken_rule_appears_once_and_the_help_is_not_repeated(
        self, client: Client
    ) -> None:
        data = sign_up_data(password1="harbour", password2="harbour")
        page = client.post(SIGN_UP, data).text
        # Once beside the field; the error summary at the top links to it.
        field_errors = page.split('id="id_password1_error"', 1)[1].split("</ul>", 1)[0]
        for complaint in ("uppercase letter", "Add a digit", "special character:"):
            assert field_errors.count(complaint) == 1, complaint
            assert page.count(complaint) == 2, complaint
        assert "Use at least 8 characters, with" not in page  # the help text
        assert 'id="id_password1_helptext"' not in page

    def test_the_field_is_described_by_its_errors_only(self, client: Client) -> None:
        page = client.post(SIGN_UP, sign_up_data(password1="harbour")).text
        tag = re.search(r'<input[^>]*id="id_password1"[^>]*>', page).group(0)
        assert 'aria-describedby="id_password1_error"' in tag
        assert 'aria-invalid="true"' in tag

    def test_a_field_without_errors_keeps_its_help(self, client: Client) -> None:
        page = client.get(SIGN_UP).text
        tag = re.search(r'<input[^>]*id="id_password1"[^>]*>', page).group(0)
        assert 'aria-describedby="id_password1_helptext"' in tag
        assert 'id="id_password1_helptext"' in page


class TestTypedPasswordsKept:
    def test_sign_up_keeps_both_passwords_when_another_field_is_wrong(
        self, client: Client
    ) -> None:
        UserFactory(username="newcomer")
        response = client.post(SIGN_UP, sign_up_data())
        assert "already exists" in response.text
        password = sign_up_data()["password1"]
        assert field_value(response.text, "id_password1") == password
        assert field_value(response.text, "id_password2") == password
        assert "no-store" in response["Cache-Control"]

    def test_a_wrong_sign_in_password_is_not_sent_back(self, client: Client) -> None:
        user = UserFactory()
        response = client.post(
            reverse("users:sign-in"),
            {"username": user.username, "password": "Wrong#Pass1"},
        )
        assert "Wrong#Pass1" not in response.text
        assert field_value(response.text, "id_password") is None
        assert "no-store" in response["Cache-Control"]

    def test_the_reset_form_keeps_the_new_passwords_on_a_mismatch(
        self, client: Client
    ) -> None:
        user = UserFactory()
        link = reverse(
            "users:password-reset-confirm",
            args=[encode_uid(user), default_token_generator.make_token(user)],
        )
        form_url = client.get(link).url  # Django swaps the token for the session
        response = client.post(
            form_url,
            {"new_password1": "Harbour#Lights42", "new_password2": "Harbour#Lights4"},
        )
        assert "match" in field_errors(response.text, "id_new_password2")
        assert field_value(response.text, "id_new_password1") == "Harbour#Lights42"
        assert User.objects.get(pk=user.pk).check_password("Secret#123")


class TestShowPasswordButton:
    def test_each_password_field_has_a_button_hidden_until_the_script_runs(
        self, client: Client
    ) -> None:
        page = client.get(SIGN_UP).text
        buttons = re.findall(r"<button[^>]*data-password-toggle[^>]*>", page)
        assert len(buttons) == 2
        for button in buttons:
            assert 'type="button"' in button  # never submits the form
            assert " hidden " in button
        assert 'aria-label="Show password"' in page
        assert 'aria-label="Show password confirmation"' in page
        assert re.search(r'<script src="[^"]*/js/password-toggle\.js" defer>', page)
        # The fields themselves stay password fields.
        assert field_value(page, "id_password1") is None
        assert re.search(r'<input type="password"[^>]*id="id_password1"', page)
