"""Emergency contacts: set through the service, shown masked by the policy, in the API."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from frontline.accounts.services import user_token
from frontline.core.errors import DomainError
from frontline.people.contacts import normalise_phone, resident_set_emergency_contact
from frontline.people.models import Resident

from .conftest import PASSWORD


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("13912340000", "13912340000"),
        ("+86 139 1234 0000", "13912340000"),
        ("0564-3312345", "0564-3312345"),
        ("", ""),
        ("12345", None),
        ("abc", None),
    ],
)
def test_phones_are_checked_like_the_census(text, stored):
    assert normalise_phone(text) == stored


def test_setting_a_contact_validates(lu_an):
    wang = Resident.objects.get(name="王秀英")
    with pytest.raises(DomainError):
        resident_set_emergency_contact(resident=wang, name="廖小梅", phone="12345")
    with pytest.raises(DomainError):
        resident_set_emergency_contact(resident=wang, name="", phone="13912340000")
    resident_set_emergency_contact(
        resident=wang, name="廖小梅", relation="女儿", phone="+8613912340000"
    )
    wang.refresh_from_db()
    assert wang.emergency_phone == "13912340000"


@pytest.fixture
def wang_with_contact(lu_an):
    wang = Resident.objects.get(name="王秀英")
    return resident_set_emergency_contact(
        resident=wang, name="廖小梅", relation="女儿", phone="13912340000"
    )


@pytest.mark.parametrize(("who", "full"), [("grid_worker", True), ("volunteer", False)])
def test_household_page_shows_the_contact_masked_by_the_policy(
    client, request, wang_with_contact, who, full
):
    user = request.getfixturevalue(who)
    client.login(username=user.username, password=PASSWORD)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    body = client.get(
        reverse("household_detail", args=[wang_with_contact.household_id])
    ).content.decode()

    assert "廖小梅" in body and "女儿" in body
    assert ('href="tel:13912340000"' in body) is full
    assert ("13912340000" in body) is full
    if not full:
        assert "139****0000" in body


@pytest.mark.parametrize(
    ("who", "shown"), [("grid_worker", "13912340000"), ("volunteer", "139****0000")]
)
def test_api_serializes_the_contact_masked(request, wang_with_contact, who, shown):
    user = request.getfixturevalue(who)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {user_token(user=user)}")

    data = client.get(reverse("api:resident-detail", args=[wang_with_contact.pk])).json()

    assert (data["emergency_name"], data["emergency_relation"], data["emergency_phone"]) == (
        "廖小梅",
        "女儿",
        shown,
    )
