"""The delivery log's recipient search and its dates (year and time zone)."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as DjangoSettings

from notifications.models import Delivery
from tests.factories import DeliveryFactory, UserFactory
from users.models import Role, User

pytestmark = pytest.mark.django_db
LOG = "/notifications/"


@pytest.fixture
def as_manager(client: Client, manager: User) -> Client:
    client.force_login(manager)
    return client


def shown(response: object) -> list[int]:
    return [delivery.pk for delivery in response.context["page"]]


@pytest.mark.parametrize("search", ["ann", "ANN.LEE@EXAMPLE", "lee@"])
def test_managers_search_by_recipient_username_or_email(
    as_manager: Client, search: str
) -> None:
    ann = UserFactory(username="ann", email="ann.lee@example.com")
    hers = DeliveryFactory(recipient=ann)
    DeliveryFactory(recipient=UserFactory(username="bob", email="bob@example.com"))

    response = as_manager.get(LOG, {"q": search})

    assert shown(response) == [hers.pk]
    assert "1 email matches your filters" in response.text
    assert f'value="{search}"' in response.text


def test_the_search_combines_with_the_status_filter(as_manager: Client) -> None:
    ann = UserFactory(username="ann")
    failed = DeliveryFactory(recipient=ann, status=Delivery.Status.FAILED)
    DeliveryFactory(recipient=ann, status=Delivery.Status.SENT)

    response = as_manager.get(LOG, {"q": "ann", "status": "failed"})

    assert shown(response) == [failed.pk]


def test_employees_have_no_recipient_search(client: Client) -> None:
    me = UserFactory(role=Role.EMPLOYEE)
    client.force_login(me)
    mine = DeliveryFactory(recipient=me)

    response = client.get(LOG, {"q": "somebody-else"})

    assert shown(response) == [mine.pk]
    assert 'name="q"' not in response.text


def test_dates_show_the_year_and_the_time_zone(
    as_manager: Client, settings: object
) -> None:
    settings.TIME_ZONE = "Europe/Paris"
    moment = datetime.datetime(2031, 7, 14, 9, 30, tzinfo=datetime.UTC)
    delivery = DeliveryFactory(status=Delivery.Status.SENT, sent_at=moment)
    Delivery.objects.filter(pk=delivery.pk).update(created_at=moment)

    page = as_manager.get(LOG).text

    assert page.count("Mon 14 Jul 2031, 11:30 CEST") == 2  # recorded and sent


def test_an_email_change_confirmation_shows_the_address_it_went_to(
    as_manager: Client,
) -> None:
    sam = UserFactory(username="sam", email="sam.old@example.com")
    DeliveryFactory(
        recipient=sam,
        kind=Delivery.Kind.EMAIL_CHANGE,
        context={"to": "sam.new@example.com"},
    )

    page = as_manager.get(LOG).text

    assert "sam.new@example.com" in page
    assert "sam.old@example.com" not in page


def test_managers_see_which_relay_sent_each_email(
    as_manager: Client, settings: DjangoSettings
) -> None:
    settings.EMAIL_FALLBACK_HOST = "smtp.fallback.example"
    sent = {
        "status": Delivery.Status.SENT,
        "sent_at": datetime.datetime.now(datetime.UTC),
    }
    DeliveryFactory(relay=Delivery.Relay.PRIMARY, **sent)
    DeliveryFactory(relay=Delivery.Relay.FALLBACK, **sent)
    text = as_manager.get(LOG).text
    assert "by the primary relay" in text
    assert "by the fallback relay" in text


def test_without_a_fallback_only_a_fallback_sent_email_names_its_relay(
    as_manager: Client,
) -> None:
    sent = {
        "status": Delivery.Status.SENT,
        "sent_at": datetime.datetime.now(datetime.UTC),
    }
    DeliveryFactory(relay=Delivery.Relay.PRIMARY, **sent)
    DeliveryFactory(relay=Delivery.Relay.FALLBACK, **sent)  # while there was one
    text = as_manager.get(LOG).text
    assert "by the primary relay" not in text
    assert text.count("by the fallback relay") == 1
