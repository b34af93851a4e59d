from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from notifications.models import Delivery
from tests.factories import UserFactory
from users.forms import SignUpForm
from users.models import User

GOOD_PASSWORD = "Harbour#Lights42"


def sign_up_data(**overrides: str) -> dict[str, str]:
    data = {
        "username": "newcomer",
        "first_name": "Nina",
        "last_name": "Newcomer",
        "email": "nina@example.com",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
    }
    return {**data, **overrides}


def password_errors(password: str) -> list[str]:
    form = SignUpForm(data=sign_up_data(password1=password, password2=password))
    assert not form.is_valid()
    return form.errors.get("password1", [])


@pytest.mark.django_db
class TestSignUpForm:
    def test_it_accepts_a_password_that_keeps_every_rule(self) -> None:
        assert SignUpForm(data=sign_up_data()).is_valid()

    @pytest.mark.parametrize(
        ("password", "complaint"),
        [
            ("Ab1!xyz", "at least 8 characters"),
            ("harbour#lights42", "uppercase letter"),
            ("Harbour#Lights", "digit"),
            ("HarbourLights42", "a special character"),
        ],
    )
    def test_it_names_each_broken_password_rule_beside_the_password(
        self, password: str, complaint: str
    ) -> None:
        assert any(complaint in error for error in password_errors(password))

    def test_it_lists_every_broken_rule_at_once(self) -> None:
        assert len(password_errors("abcdefgh")) >= 3

    def test_it_applies_djangos_password_validators_too(self) -> None:
        errors = password_errors("Newcomer#1")
        assert any("too similar to the username" in error for error in errors)

    def test_it_applies_djangos_common_password_list(self) -> None:
        errors = password_errors("Password1!")
        assert any("too common" in error for error in errors)

    def test_it_reports_mismatched_passwords_beside_the_confirmation(self) -> None:
        form = SignUpForm(data=sign_up_data(password2="Harbour#Lights43"))
        assert not form.is_valid()
        assert form.has_error("password2", code="password_mismatch")
        assert "password1" not in form.errors

    def test_it_rejects_an_email_taken_in_other_case(self) -> None:
        UserFactory(email="nina@example.com")
        form = SignUpForm(data=sign_up_data(email="NINA@Example.COM"))
        assert not form.is_valid()
        assert form.errors["email"] == ["An account with this email already exists."]

    def test_it_requires_an_email(self) -> None:
        form = SignUpForm(data=sign_up_data(email=""))
        assert not form.is_valid()
        assert "email" in form.errors

    def test_it_rejects_a_username_taken_in_other_case(self) -> None:
        UserFactory(username="newcomer")
        form = SignUpForm(data=sign_up_data(username="NewComer"))
        assert not form.is_valid()
        assert "already exists" in form.errors["username"][0]


@pytest.mark.django_db
class TestSignUpPage:
    def test_it_creates_an_inactive_account_and_says_a_mail_was_sent(
        self, client: Client
    ) -> None:
        response = client.post(reverse("users:sign-up"), sign_up_data(), follow=True)
        user = User.objects.get(username="newcomer")
        assert not user.is_active
        assert user.check_password(GOOD_PASSWORD)
        assert not user.groups.exists()
        assert "We sent a confirmation email" in response.text
        assert "nina@example.com" in response.text

    def test_it_shows_errors_next_to_the_fields(self, client: Client) -> None:
        data = sign_up_data(password1="weak", password2="weaker")
        response = client.post(reverse("users:sign-up"), data)
        assert response.status_code == 200
        assert 'id="id_password1_error"' in response.text
        assert 'id="id_password2_error"' in response.text
        assert not User.objects.filter(username="newcomer").exists()

    def test_it_shows_the_taken_email_error_beside_the_email(
        self, client: Client
    ) -> None:
        UserFactory(email="nina@example.com")
        data = sign_up_data(email="Nina@example.com")
        response = client.post(reverse("users:sign-up"), data)
        assert 'id="id_email_error"' in response.text
        assert "An account with this email already exists." in response.text
        assert User.objects.filter(email__iexact="nina@example.com").count() == 1

    def test_it_sends_signed_in_users_home(self, client: Client) -> None:
        client.force_login(UserFactory())
        response = client.get(reverse("users:sign-up"))
        assert response.status_code == 302

    def test_it_records_one_activation_email_for_the_new_account(
        self, client: Client, db: None
    ) -> None:
        client.post(reverse("users:sign-up"), sign_up_data())
        user = User.objects.get(username="newcomer")
        deliveries = Delivery.objects.filter(recipient=user)
        assert [d.kind for d in deliveries] == [Delivery.Kind.ACTIVATION]


@pytest.mark.django_db
def test_accounts_created_active_get_no_activation_email(db: None) -> None:
    UserFactory(is_active=True)
    User.objects.create_superuser("root", "root@example.com", "Root#Pass123")
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("Europe/Lisbon", "Europe/Lisbon"),
        ("Mars/Olympus", ""),
        ("Factory", ""),  # in the zone database, but no place to live
        ("", ""),  # no JavaScript: the site's zone
    ],
)
@pytest.mark.django_db
def test_a_new_account_takes_the_browsers_time_zone(
    client: Client, sent: str, kept: str
) -> None:
    client.post(
        "/users/sign-up/",
        {
            "username": "tz",
            "first_name": "T",
            "last_name": "Z",
            "email": "tz@example.com",
            "password1": "Harbour#Lights42",
            "password2": "Harbour#Lights42",
            "time_zone": sent,
        },
    )
    assert User.objects.get(username="tz").time_zone == kept
