"""The household's own page: a signed, revocable link; submit, follow, confirm with a rating."""

from __future__ import annotations

from django.conf import settings
from django.test import Client
from django.urls import reverse

from frontline.requests.models import Request, ResidentLink, Status
from frontline.requests.resident import link_issue, link_revoke, link_token
from frontline.requests.services import (
    request_create,
    request_deliver,
    request_dispatch,
    request_report,
)


def _page(link):
    return reverse("resident_page", args=[link_token(link)])


def test_household_submits_follows_and_confirms(grid_worker, volunteer, lu_an):
    household = lu_an["ankang"][0]
    link = link_issue(actor=grid_worker, household=household)
    resident = Client()

    sent = resident.post(
        _page(link), {"category": "groceries", "urgency": "normal", "description": "米和油"}
    )
    assert sent.status_code == 302
    req = Request.objects.get()
    assert req.household == household and req.channel == "resident" and req.created_by is None

    request_dispatch(request=req, assignee=volunteer, actor=grid_worker)
    request_deliver(request=req, actor=volunteer)
    request_report(request=req, actor=volunteer)
    page = resident.get(_page(link)).content.decode()
    assert req.number in page and reverse("resident_close", args=[link_token(link), req.pk])[:3]

    resident.post(reverse("resident_close", args=[link_token(link), req.pk]), {"satisfaction": "4"})
    req.refresh_from_db()
    assert req.status == Status.CLOSED and req.satisfaction == 4
    assert req.events.last().actor_name == "居民"


def test_a_household_cannot_touch_another_households_request(grid_worker, volunteer, lu_an):
    mine = link_issue(actor=grid_worker, household=lu_an["ankang"][0])
    other = request_create(
        actor=grid_worker, household=lu_an["ankang"][1], category="repair", description="灯"
    )
    request_dispatch(request=other, assignee=volunteer, actor=grid_worker)
    request_deliver(request=other, actor=volunteer)
    request_report(request=other, actor=volunteer)
    Client().post(
        reverse("resident_close", args=[link_token(mine), other.pk]), {"satisfaction": "5"}
    )
    assert Request.objects.get(pk=other.pk).status == Status.REPORTED
    assert other.number not in Client().get(_page(mine)).content.decode()


def test_revoked_and_forged_links_are_refused_clearly(grid_worker, lu_an):
    household = lu_an["ankang"][0]
    link = link_issue(actor=grid_worker, household=household)
    old = _page(link)
    token = link_token(link)
    forged = reverse("resident_page", args=[token[:-2] + ("AA" if token[-2:] != "AA" else "BB")])
    assert Client().get(forged).status_code == 403

    link_revoke(actor=grid_worker, household=household)
    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    refused = english.get(old)
    assert refused.status_code == 403 and "revoked" in refused.content.decode()

    renewed = link_issue(actor=grid_worker, household=household)
    assert renewed.version == 2
    assert Client().get(_page(renewed)).status_code == 200
    assert Client().get(old).status_code == 403


def test_the_page_is_rate_limited(grid_worker, lu_an, monkeypatch):
    from frontline.requests import resident

    monkeypatch.setattr(resident, "PER_ADDRESS_PER_MINUTE", 3)
    link = link_issue(actor=grid_worker, household=lu_an["ankang"][0])
    client = Client()
    codes = [client.get(_page(link)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_staff_page_issues_shows_a_qr_code_and_revokes(grid_worker, volunteer, lu_an):
    household = lu_an["ankang"][0]
    client = Client()
    client.force_login(grid_worker)
    url = reverse("household_link", args=[household.pk])
    client.post(url, {"action": "issue"})
    page = client.get(url).content.decode()
    assert "<svg" in page and "/r/" in page
    client.post(url, {"action": "revoke"})
    assert not ResidentLink.objects.get(household=household).active

    other = Client()
    other.force_login(volunteer)
    assert other.get(url).status_code == 403


def test_a_building_sheet_issues_and_prints_every_households_link(grid_worker, volunteer, lu_an):
    household = lu_an["ankang"][0]
    url = reverse("household_link_sheet", args=[household.building_id])
    client = Client()
    client.force_login(grid_worker)
    assert client.get(url).context["missing"] == 1
    client.post(url)
    sheet = client.get(url)
    assert sheet.context["missing"] == 0 and sheet.content.decode().count("<svg") == 1
    other = Client()
    other.force_login(volunteer)
    assert other.get(url).status_code == 403
