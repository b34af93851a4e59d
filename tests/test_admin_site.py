"""The Django admin speaks of the product, and read-only rows offer nothing to save."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import DeliveryFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_admin(client: Client) -> Client:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_admin_header_and_title_name_the_product(as_admin: Client) -> None:
    page = as_admin.get("/admin/").text

    assert "Tasks administration" in page
    assert "Django administration" not in page
    assert "Django site admin" not in page


def test_the_admin_sign_in_page_names_the_product(client: Client) -> None:
    page = client.get("/admin/login/").text

    assert "Tasks administration" in page
    assert 'rel="icon"' in page  # no request for a /favicon.ico there is not


def test_a_delivery_shows_no_save_buttons_only_close(as_admin: Client) -> None:
    delivery = DeliveryFactory()

    page = as_admin.get(f"/admin/notifications/delivery/{delivery.pk}/change/").text

    assert 'name="_save"' not in page
    assert 'name="_continue"' not in page
    assert 'name="_addanother"' not in page
    assert "closelink" in page


@pytest.mark.parametrize(
    ("action", "status"), [("resend_failed", "failed"), ("cancel_queued", "queued")]
)
def test_delivery_actions_need_the_change_permission(
    db: None, action: str, status: str
) -> None:
    """Staff who may only view deliveries cannot re-send or cancel them."""
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_delivery"))
    delivery = DeliveryFactory(status=status)
    client = Client()
    client.force_login(viewer)
    changelist = "/admin/notifications/delivery/"
    assert action not in client.get(changelist).text
    client.post(changelist, {"action": action, "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == status

    viewer.user_permissions.add(Permission.objects.get(codename="change_delivery"))
    client.post(changelist, {"action": action, "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status != status
