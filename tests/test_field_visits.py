"""Door visits: recorded from the page and the API, scoped, counted in progress and stats."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from frontline.accounts.services import user_token
from frontline.audit.models import AuditEvent
from frontline.core.errors import DomainError, NotFound
from frontline.people.models import Household, Visit
from frontline.people.stats import census_stats
from frontline.people.visits import visit_record
from frontline.territory.models import Region
from frontline.territory.services import grid_create

from . import factories as f
from .conftest import ANKANG, PASSWORD


@pytest.fixture
def as_user(client):
    def sign_in(user):
        assert client.login(username=user.username, password=PASSWORD)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return sign_in


def api(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {user_token(user=user)}")


def region(path: str) -> Region:
    return Region.objects.get(path=path)


def test_a_visit_is_located_at_its_household(lu_an, grid_worker):
    household = lu_an["ankang"][1]

    visit = visit_record(actor=grid_worker, household=household, outcome="visited", purpose="care")

    assert (visit.building_id, visit.compound_id) == (household.building_id, household.compound_id)
    assert visit.day == timezone.localdate()
    assert visit.visitor == grid_worker


@pytest.mark.parametrize(
    ("outcome", "purpose"), [("maybe", "care"), ("visited", "chat"), ("", "care")]
)
def test_a_visit_needs_a_known_outcome_and_purpose(lu_an, grid_worker, outcome, purpose):
    with pytest.raises(DomainError):
        visit_record(
            actor=grid_worker, household=lu_an["ankang"][0], outcome=outcome, purpose=purpose
        )


def test_an_outsider_cannot_record_a_visit_here(lu_an, outsider):
    with pytest.raises(NotFound):
        visit_record(
            actor=outsider, household=lu_an["ankang"][0], outcome="visited", purpose="care"
        )
    assert not Visit.objects.exists()


def test_recording_from_the_household_page_takes_one_tap(as_user, lu_an, grid_worker):
    household = lu_an["ankang"][0]
    client = as_user(grid_worker)

    page = client.get(reverse("household_detail", args=[household.pk])).content.decode()
    response = client.post(reverse("visit_create", args=[household.pk]), {"outcome": "visited"})

    assert 'name="outcome" value="visited"' in page
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert (visit.outcome, visit.purpose) == ("visited", "care")
    listed = client.get(reverse("household_detail", args=[household.pk])).content.decode()
    assert "Visited" in listed and "No visits recorded yet." not in listed


def test_progress_counts_visited_households_of_the_day(as_user, lu_an, grid_worker):
    ankang = region(ANKANG)
    extra = [f.household(f"{ANKANG}/3栋", room=f"{n}01") for n in range(1, 4)]
    point = grid_create(region=ankang, name="第一网格点", coverage=[region(f"{ANKANG}/3栋")])
    for hh in extra[:2]:
        visit_record(actor=grid_worker, household=hh, outcome="visited", purpose="care")
    # Twice the same door, and a door nobody opened: neither counts twice nor as visited.
    visit_record(actor=grid_worker, household=extra[0], outcome="visited", purpose="notice")
    visit_record(actor=grid_worker, household=extra[2], outcome="nobody_home", purpose="care")
    client = as_user(grid_worker)

    response = client.get(reverse("visit_progress") + f"?region={ankang.pk}")

    rows = {r.label: (r.visited, r.households) for r in response.context["rows"]}
    assert rows["安康小区"] == (2, 5)
    assert rows["第一网格点"] == (2, 3)
    assert rows["3栋"] == (2, 3) and rows["1栋"] == (0, 1)
    assert "2 / 5 visited today" in response.content.decode()
    pending = {i["household"].pk for i in response.context["pending_items"]}
    assert pending == {lu_an["ankang"][0].pk, lu_an["ankang"][1].pk, extra[2].pk}
    by_grid = client.get(reverse("visit_progress") + f"?region={ankang.pk}&grid={point.pk}")
    assert by_grid.context["rows"][0].visited == 2


def test_progress_on_a_chosen_day(as_user, lu_an, grid_worker):
    household = lu_an["ankang"][0]
    yesterday = timezone.now() - dt.timedelta(days=1)
    visit_record(
        actor=grid_worker, household=household, outcome="visited", purpose="care", at=yesterday
    )
    client = as_user(grid_worker)
    ankang = region(ANKANG)
    day = timezone.localdate(yesterday).isoformat()

    today = client.get(reverse("visit_progress") + f"?region={ankang.pk}")
    then = client.get(reverse("visit_progress") + f"?region={ankang.pk}&date={day}")

    assert today.context["rows"][0].visited == 0
    assert then.context["rows"][0].visited == 1


@pytest.mark.parametrize("extra", [1, 6])
def test_progress_query_count_is_bounded(
    as_user, lu_an, grid_worker, django_assert_num_queries, extra
):
    ankang = region(ANKANG)
    for n in range(extra):
        hh = f.household(f"{ANKANG}/{n + 3}栋", room="101")
        visit_record(actor=grid_worker, household=hh, outcome="visited", purpose="care")
        grid_create(region=ankang, name=f"点{n}", coverage=[region(f"{ANKANG}/{n + 3}栋")])
    client = as_user(grid_worker)
    # session, user, the jurisdiction, the region asked for, totals, visited, grid points, their coverage,
    # building names, not-visited ids and page rows, the filters' buildings and points.
    with django_assert_num_queries(13):
        client.get(reverse("visit_progress") + f"?region={ankang.pk}")


def test_stats_gain_visits_today_and_by_outcome(lu_an, grid_worker):
    a, b = lu_an["ankang"]
    visit_record(actor=grid_worker, household=a, outcome="visited", purpose="care")
    visit_record(actor=grid_worker, household=a, outcome="visited", purpose="census")
    visit_record(actor=grid_worker, household=b, outcome="refused", purpose="care")

    stats = census_stats(region(ANKANG))

    assert stats["visits_today"] == 1
    assert stats["visits"] == {"visited": 2, "nobody_home": 0, "refused": 1}
    api_stats = api(grid_worker).get(reverse("api:stats")).json()
    assert (api_stats["visits_today"], api_stats["visits"]) == (1, stats["visits"])


def test_stats_command_prints_visits(lu_an, grid_worker, capsys):
    visit_record(actor=grid_worker, household=lu_an["ankang"][0], outcome="visited", purpose="care")

    call_command("stats", "--region", ANKANG, "--json")

    data = json.loads(capsys.readouterr().out)
    assert data["visits_today"] == 1 and data["visits"]["visited"] == 1


def test_api_post_visit_is_201_and_listed_by_region_and_date(lu_an, grid_worker):
    household = lu_an["ankang"][1]
    client = api(grid_worker)

    created = client.post(
        reverse("api:visit-list"),
        {"household": household.pk, "outcome": "nobody_home", "purpose": "notice", "note": "再来"},
        content_type="application/json",
    )
    today = timezone.localdate().isoformat()
    listed = client.get(reverse("api:visit-list") + f"?region={ANKANG}&date={today}").json()
    other_day = client.get(reverse("api:visit-list") + "?date=2020-01-01").json()

    assert created.status_code == 201, created.content
    assert created.json()["outcome"] == "nobody_home" and created.json()["note"] == "再来"
    assert listed["count"] == 1 and listed["results"][0]["household"] == household.pk
    assert other_day["count"] == 0
    assert AuditEvent.objects.filter(object_type="visit", detail__channel="api").exists()


@pytest.mark.parametrize(
    "body",
    [
        {"outcome": "visited"},
        {"household": 0, "outcome": "gone"},
        {"household": 0, "outcome": "visited", "purpose": "x"},
    ],
)
def test_api_post_visit_rejects_bad_input(lu_an, grid_worker, body):
    body = (
        {**body, "household": body.get("household") or lu_an["ankang"][0].pk}
        if "household" in body
        else body
    )
    response = api(grid_worker).post(
        reverse("api:visit-list"), body, content_type="application/json"
    )
    assert response.status_code == 400


def test_api_outsider_cannot_post_or_list_visits_here(lu_an, grid_worker, outsider):
    visit_record(actor=grid_worker, household=lu_an["ankang"][0], outcome="visited", purpose="care")
    client = api(outsider)

    post = client.post(
        reverse("api:visit-list"),
        {"household": lu_an["ankang"][0].pk, "outcome": "visited"},
        content_type="application/json",
    )
    own = client.get(reverse("api:visit-list")).json()
    aimed = client.get(reverse("api:visit-list") + f"?region={ANKANG}")

    assert post.status_code == 404
    assert own["count"] == 0
    assert aimed.status_code == 404
    assert Visit.objects.count() == 1


def test_api_bad_date_is_400(grid_worker):
    assert api(grid_worker).get(reverse("api:visit-list") + "?date=yesterday").status_code == 400


def test_api_residents_by_care_group_counts_exactly_that_group(lu_an, grid_worker):
    hh = f.household(f"{ANKANG}/4栋", room="101")
    f.resident(hh, "独居甲", birth=dt.date(1937, 1, 1), care_groups=("独居老人",))
    f.resident(hh, "老伴乙", birth=dt.date(1937, 1, 2))
    client = api(grid_worker)

    data = client.get(reverse("api:resident-list") + f"?care_group=独居老人&region={ANKANG}").json()
    combined = client.get(reverse("api:resident-list") + "?care_group=独居老人&q=独居甲").json()
    bad = client.get(reverse("api:resident-list") + "?care_group=老人")

    assert data["count"] == 2 and {r["name"] for r in data["results"]} == {"王秀英", "独居甲"}
    assert combined["count"] == 1
    assert bad.status_code == 400


def test_api_households_cannot_order_online(lu_an, grid_worker):
    client = api(grid_worker)

    offline = client.get(
        reverse("api:household-list") + f"?cannot_order_online=true&region={ANKANG}"
    )
    online = client.get(reverse("api:household-list") + "?cannot_order_online=false")

    assert [h["id"] for h in offline.json()["results"]] == [lu_an["ankang"][0].pk]
    assert [h["id"] for h in online.json()["results"]] == [lu_an["ankang"][1].pk]
    assert (
        client.get(reverse("api:household-list") + "?cannot_order_online=maybe").status_code == 400
    )


def test_household_counts_match_between_api_and_figures(lu_an, grid_worker):
    stats = api(grid_worker).get(reverse("api:stats")).json()
    offline = api(grid_worker).get(reverse("api:household-list") + "?cannot_order_online=true")
    assert (
        offline.json()["count"]
        == stats["cannot_order_online"]
        == Household.objects.filter(compound__path=ANKANG, online_members=0).count()
    )


@pytest.mark.parametrize(
    ("next_url", "lands"),
    [("/regions/1/", "/regions/1/"), ("https://evil.example/", None), ("//evil.example/", None)],
)
def test_after_a_visit_back_to_the_chart_or_list_never_off_site(
    as_user, lu_an, grid_worker, next_url, lands
):
    household = lu_an["ankang"][0]

    response = as_user(grid_worker).post(
        reverse("visit_create", args=[household.pk]), {"outcome": "visited", "next": next_url}
    )

    assert response["Location"] == (lands or reverse("household_detail", args=[household.pk]))
