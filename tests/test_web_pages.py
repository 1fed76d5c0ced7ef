"""The server-rendered pages: who sees what, and what they cost in queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse

from frontline.people.models import Household, Resident
from frontline.territory.models import Grid, Level, Region
from frontline.territory.services import grid_add_member, grid_create

from . import factories as f
from .conftest import ANKANG, CHUANGYE, LIJINGYUAN, PASSWORD


@pytest.fixture
def as_user(client):
    """A client signed in as the given person, reading the English UI."""

    def sign_in(user):
        assert client.login(username=user.username, password=PASSWORD)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return sign_in


def born(n: int) -> dt.date:
    """Distinct birth dates, so that the factory's ID numbers never collide."""
    return dt.date(1960, 1, 1) + dt.timedelta(days=n)


def region(path: str) -> Region:
    return Region.objects.get(path=path)


@pytest.fixture
def grids(lu_an):
    ankang = region(ANKANG)
    community = ankang.parent
    parent = grid_create(region=community, name="陡步河社区网格", duties="全面负责")
    point = grid_create(
        region=ankang,
        name="安康小区1号网格点",
        parent=parent,
        coverage=[region(f"{ANKANG}/1栋"), region(f"{ANKANG}/2栋")],
        duties="扫楼摸底、物资配送",
    )
    grid_add_member(grid=point, role="chief", name="周网长", phone="13511112222")
    grid_add_member(grid=point, role="worker", name="吴网员", phone="13533334444")
    other = grid_create(region=region(LIJINGYUAN), name="丽景苑网格点")
    grid_add_member(grid=other, role="chief", name="钱网长")
    return {"community": parent, "point": point, "lijingyuan": other}


# --- login, logout, chrome ------------------------------------------------------------


@pytest.mark.parametrize(
    "name,args",
    [
        ("home", []),
        ("region_detail", [1]),
        ("household_detail", [1]),
        ("resident_search", []),
        ("grid_list", []),
        ("grid_detail", [1]),
        ("census_import", []),
        ("census_template", []),
        ("census_export", []),
    ],
)
def test_anonymous_is_sent_to_login(client, db, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_renders_and_signs_in(client, grid_worker):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b'name="password"' in page.content
    response = client.post(
        reverse("login"), {"username": "grid_worker", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("home")
    assert response.context["user"] == grid_worker


def test_wrong_password_stays_on_login(client, grid_worker):
    response = client.post(reverse("login"), {"username": "grid_worker", "password": "nope"})
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated


def test_logout_is_post_only(as_user, grid_worker):
    client = as_user(grid_worker)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_header_shows_user_role_jurisdiction_and_nav(as_user, grid_worker):
    html = as_user(grid_worker).get(reverse("home")).content.decode()
    assert "grid_worker" in html
    assert "Grid worker" in html
    assert ANKANG in html
    for url in (reverse("home"), reverse("resident_search"), reverse("grid_list")):
        assert f'href="{url}"' in html
    assert reverse("region_detail", args=[grid_worker.region_id]) in html
    # The import link is for those who may import.
    assert reverse("census_import") not in html
    assert 'action="/i18n/setlang/"' in html


def test_language_switch_changes_the_ui(client, grid_worker):
    client.login(username="grid_worker", password=PASSWORD)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert client.get("/").wsgi_request.LANGUAGE_CODE == "en"
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    response = client.get("/")
    assert response.wsgi_request.LANGUAGE_CODE == "zh-hans"
    assert '<html lang="zh-hans">' in response.content.decode()


def test_static_stylesheet_is_served_locally(client, db):
    response = client.get("/static/frontline/app.css")
    assert response.status_code == 200
    html = client.get(reverse("login")).content.decode()
    assert "/static/frontline/app.css" in html
    assert "//cdn" not in html and "https://" not in html


# --- home -----------------------------------------------------------------------------


def test_home_shows_the_jurisdiction_figures_not_the_region_page(as_user, town_staff):
    response = as_user(town_staff).get(reverse("home"))
    assert response.status_code == 200
    stats = response.context["stats"]
    assert stats["households"] == 3
    assert stats["residents"] == 4
    assert stats["party_members"] == 1
    assert stats["care_groups"]["独居老人"] == 1
    # The places under the jurisdiction are the region page's, one tap away; the home
    # page does not repeat them (issue 6: not near-duplicates).
    assert "children" not in response.context
    html = response.content.decode()
    assert reverse("region_detail", args=[town_staff.region_id]) in html
    assert "丽景苑" not in html


def test_home_of_the_outsider_shows_only_their_compound(as_user, outsider):
    response = as_user(outsider).get(reverse("home"))
    assert response.context["stats"]["households"] == 1
    assert response.context["stats"]["residents"] == 1
    html = response.content.decode()
    assert "安康小区" not in html and "城南镇" not in html


@pytest.mark.parametrize("extra_children", [0, 6])
def test_home_query_count_does_not_grow_with_children(
    as_user, town_staff, django_assert_num_queries, extra_children
):
    for n in range(extra_children):
        hh = f.household(f"裕安区/城南镇/新社区{n}/新小区/1栋")
        f.resident(hh, f"居民{n}", birth=born(n))
    client = as_user(town_staff)
    # session, user, census figures (8), today's visits (2), empty households and
    # nobody to call (2), the account's grids, the header's region, the zone badge.
    with django_assert_num_queries(17):
        assert client.get(reverse("home")).status_code == 200


# --- region browse --------------------------------------------------------------------


def test_region_detail_of_a_building_lists_its_households(as_user, community_staff, lu_an):
    building = region(f"{ANKANG}/1栋")
    response = as_user(community_staff).get(reverse("region_detail", args=[building.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    household = lu_an["ankang"][0]
    assert reverse("household_detail", args=[household.pk]) in html
    assert "101室" in html
    assert "13800001111" in html  # community staff see phones in full
    assert "Lived in" in html


def test_region_detail_breadcrumb_links_only_inside_the_jurisdiction(as_user, grid_worker):
    building = region(f"{ANKANG}/1栋")
    response = as_user(grid_worker).get(reverse("region_detail", args=[building.pk]))
    crumbs = response.context["breadcrumb"]
    assert [r.name for r, _ in crumbs] == ["六安市", "裕安区", "城南镇", "陡步河社区", "安康小区"]
    assert [allowed for _, allowed in crumbs] == [False, False, False, False, True]
    html = response.content.decode()
    assert reverse("region_detail", args=[region(ANKANG).pk]) in html
    assert reverse("region_detail", args=[region("裕安区/城南镇").pk]) not in html


def test_region_detail_children_counts(as_user, city_admin):
    response = as_user(city_admin).get(reverse("region_detail", args=[region("裕安区/城南镇").pk]))
    rows = {
        row.region.name: (row.households, row.residents) for row in response.context["children"]
    }
    assert rows == {"陡步河社区": (2, 3), "城南社区": (1, 1)}


@pytest.mark.parametrize(
    "path", [CHUANGYE, f"{CHUANGYE}/1栋", LIJINGYUAN, "裕安区/城南镇", "裕安区", ""]
)
def test_region_outside_the_jurisdiction_is_404(as_user, grid_worker, path):
    target = Region.objects.get(path=path) if path else Region.objects.get(level=Level.CITY)
    response = as_user(grid_worker).get(reverse("region_detail", args=[target.pk]))
    assert response.status_code == 404
    assert "<h1>404</h1>" in response.content.decode()


def test_unknown_region_is_404_in_the_same_look(as_user, grid_worker):
    response = as_user(grid_worker).get(reverse("region_detail", args=[999999]))
    assert response.status_code == 404
    assert "/static/frontline/app.css" in response.content.decode()


@pytest.mark.parametrize("extra_children", [0, 8])
def test_region_detail_query_count_does_not_grow_with_children(
    as_user, town_staff, django_assert_num_queries, extra_children
):
    township = region("裕安区/城南镇")
    for n in range(extra_children):
        hh = f.household(f"裕安区/城南镇/新社区{n}/新小区/1栋")
        f.resident(hh, f"居民{n}", birth=born(n))
    client = as_user(town_staff)
    # session, user, region, ancestors, city, census figures (8), today's visits (2),
    # empty households and nobody to call (2), children (2), counts, the zone badge.
    with django_assert_num_queries(21):
        response = client.get(reverse("region_detail", args=[township.pk]))
    assert len(response.context["children"]) == 2 + extra_children


@pytest.mark.parametrize("extra_households", [0, 8])
def test_building_query_count_does_not_grow_with_households(
    as_user, community_staff, django_assert_num_queries, extra_households
):
    building = region(f"{ANKANG}/1栋")
    for n in range(extra_households):
        f.resident(f.household(f"{ANKANG}/1栋", room=f"9{n:02d}"), f"住户{n}", birth=born(n))
    client = as_user(community_staff)
    # As the township's page, plus today's visits (2), empty households and nobody to
    # call (2), and the room chart (households, their care groups, today's visits).
    with django_assert_num_queries(24):
        response = client.get(reverse("region_detail", args=[building.pk]))
    assert len(response.context["households"].object_list) == 1 + extra_households


def test_long_household_lists_are_paginated(as_user, community_staff):
    building = region(f"{ANKANG}/1栋")
    for n in range(60):
        f.household(f"{ANKANG}/1栋", room=f"{1000 + n}")
    client = as_user(community_staff)
    first = client.get(reverse("region_detail", args=[building.pk]))
    assert len(first.context["households"].object_list) == 50
    assert "page=2" in first.content.decode()
    second = client.get(reverse("region_detail", args=[building.pk]), {"page": 2})
    assert len(second.context["households"].object_list) == 11


# --- household detail ------------------------------------------------------------------


def test_household_detail_shows_members(as_user, community_staff, lu_an):
    household = lu_an["ankang"][1]
    response = as_user(community_staff).get(reverse("household_detail", args=[household.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert household.address in html
    assert "李强" in html and "李小红" in html
    # English pages name care groups in English (the Chinese UI shows the sheet label).
    assert "Infant" in html and "婴幼儿" not in html
    assert "Party member" in html
    # can_order_online: 李强 yes, 李小红 unknown
    assert "Unknown" in html


@pytest.mark.parametrize("who", ["outsider", "grid_worker", "volunteer"])
def test_household_outside_the_jurisdiction_is_404(as_user, request, lu_an, who):
    user = request.getfixturevalue(who)
    foreign = lu_an["lijingyuan"] if who != "outsider" else lu_an["ankang"][0]
    assert as_user(user).get(reverse("household_detail", args=[foreign.pk])).status_code == 404
    chuangye = lu_an["chuangye"]
    assert as_user(user).get(reverse("household_detail", args=[chuangye.pk])).status_code == 404


def test_masking_differs_between_community_staff_and_volunteer(
    client, community_staff, volunteer, lu_an
):
    household = lu_an["ankang"][0]
    resident = household.residents.get()
    url = reverse("household_detail", args=[household.pk])

    client.login(username="community_staff", password=PASSWORD)
    staff_html = client.get(url).content.decode()
    # The ID is masked on the page for everyone; staff may reveal it (audited).
    assert resident.id_number not in staff_html
    assert reverse("resident_reveal", args=[resident.pk]) in staff_html
    revealed = client.post(reverse("resident_reveal", args=[resident.pk]))
    assert resident.id_number in revealed.content.decode()
    assert resident.phone in staff_html
    assert household.phone in staff_html

    client.login(username="volunteer", password=PASSWORD)
    volunteer_html = client.get(url).content.decode()
    assert resident.id_number not in volunteer_html
    assert reverse("resident_reveal", args=[resident.pk]) not in volunteer_html
    assert client.post(reverse("resident_reveal", args=[resident.pk])).status_code == 403
    assert resident.id_number[:6] + "********" + resident.id_number[-4:] in volunteer_html
    assert resident.phone not in volunteer_html
    assert "139****5678" in volunteer_html
    assert household.phone not in volunteer_html
    assert "138****1111" in volunteer_html


def test_grid_worker_sees_phones_but_not_id_numbers(as_user, grid_worker, lu_an):
    household = lu_an["ankang"][0]
    resident = household.residents.get()
    html = as_user(grid_worker).get(reverse("household_detail", args=[household.pk])).content
    html = html.decode()
    assert resident.phone in html
    assert resident.id_number not in html


# --- resident search -------------------------------------------------------------------


def _names(response) -> set[str]:
    return {r.name for r in response.context["page"].object_list}


@pytest.mark.parametrize(
    "query,expected",
    [
        ("李", {"李强", "李小红"}),
        ("秀英", {"王秀英"}),
        ("5678", {"王秀英"}),
        ("2222", {"李强"}),
        ("0000", set()),
        ("孙丽", set()),  # outside the jurisdiction
        ("6666", set()),  # the outsider's phone tail
    ],
)
def test_search_by_name_and_phone_tail(as_user, community_staff, query, expected):
    response = as_user(community_staff).post(reverse("resident_search"), {"q": query})
    assert response.status_code == 200
    assert _names(response) == expected


def test_search_by_full_id_number(as_user, community_staff, lu_an):
    resident = Resident.objects.get(name="李强")
    client = as_user(community_staff)
    response = client.post(reverse("resident_search"), {"q": resident.id_number})
    assert _names(response) == {"李强"}
    html = response.content.decode()
    assert reverse("household_detail", args=[resident.household_id]) in html
    # An ID number of someone outside is not found, even typed in full.
    foreign = Resident.objects.get(name="孙丽")
    assert _names(client.post(reverse("resident_search"), {"q": foreign.id_number})) == set()


def test_search_lowercase_x_in_id_number(as_user, community_staff, lu_an):
    household = lu_an["ankang"][0]
    x_id = next(number for n in range(200) if (number := f.id_number(birth=born(n))).endswith("X"))
    f.resident(household, "带X的人", id_number=x_id)
    response = as_user(community_staff).post(reverse("resident_search"), {"q": x_id.lower()})
    assert _names(response) == {"带X的人"}


def test_outsider_never_finds_anyone_outside(as_user, outsider):
    client = as_user(outsider)
    for query in ("王", "李", "赵", "5678", "2222"):
        assert _names(client.post(reverse("resident_search"), {"q": query})) == set()
    assert _names(client.post(reverse("resident_search"), {"q": "孙"})) == {"孙丽"}


def test_empty_search_lists_nobody(as_user, community_staff):
    response = as_user(community_staff).get(reverse("resident_search"))
    assert response.status_code == 200
    assert response.context["page"] is None


def test_search_masks_for_volunteer(as_user, volunteer):
    resident = Resident.objects.get(name="王秀英")
    html = as_user(volunteer).post(reverse("resident_search"), {"q": "王"}).content.decode()
    assert resident.id_number not in html
    assert resident.phone not in html
    assert "139****5678" in html


def test_htmx_search_returns_only_the_results_fragment(as_user, community_staff):
    response = as_user(community_staff).post(
        reverse("resident_search"), {"q": "李"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "李强" in html
    assert "<html" not in html and "<form" not in html


def test_search_form_works_without_js(as_user, community_staff):
    html = as_user(community_staff).get(reverse("resident_search")).content.decode()
    # POST, so that a query (an ID or phone number) never lands in a URL or the history.
    assert 'method="post"' in html and 'name="q"' in html
    assert "hx-post=" in html and "hx-push-url" not in html


def test_search_results_are_paginated(as_user, community_staff):
    household = Household.objects.get(room="101", building__path=f"{ANKANG}/1栋")
    for n in range(25):
        f.resident(household, f"陈{n:02d}", birth=born(n))
    client = as_user(community_staff)
    first = client.post(reverse("resident_search"), {"q": "陈"})
    assert first.context["page"].paginator.count == 25
    assert len(first.context["page"].object_list) == 20
    html = first.content.decode()
    assert 'name="page" value="2"' in html and 'name="q" value="陈"' in html
    assert "?q=" not in html
    second = client.post(reverse("resident_search"), {"q": "陈", "page": 2})
    assert len(second.context["page"].object_list) == 5


# --- grids ----------------------------------------------------------------------------


def test_grid_list_shows_visible_grids(as_user, community_staff, grids):
    response = as_user(community_staff).get(reverse("grid_list"))
    assert response.status_code == 200
    names = [g.name for g in response.context["page"].object_list]
    assert names == ["陡步河社区网格", "安康小区1号网格点"]
    html = response.content.decode()
    assert "丽景苑" not in html
    assert "周网长" in html and "吴网员" in html
    counts = {g.name: g.household_count for g in response.context["page"].object_list}
    assert counts == {"陡步河社区网格": 2, "安康小区1号网格点": 2}


def test_grid_list_household_counts_agree_with_grid_households(as_user, city_admin, grids):
    from frontline.territory.services import grid_households

    response = as_user(city_admin).get(reverse("grid_list"))
    for grid in response.context["page"].object_list:
        assert grid.household_count == grid_households(grid).count()


def test_grid_list_of_the_outsider(as_user, outsider, grids):
    response = as_user(outsider).get(reverse("grid_list"))
    assert [g.name for g in response.context["page"].object_list] == ["丽景苑网格点"]
    assert "安康" not in response.content.decode()


@pytest.mark.parametrize("extra_grids", [0, 5])
def test_grid_list_query_count_is_constant(
    as_user, city_admin, grids, django_assert_num_queries, extra_grids
):
    ankang = region(ANKANG)
    for n in range(extra_grids):
        grid = grid_create(region=ankang, name=f"附加网格点{n}", coverage=[region(f"{ANKANG}/1栋")])
        grid_add_member(grid=grid, role="worker", name=f"网员{n}")
    client = as_user(city_admin)
    # session, user, the user's region for the header, count, grids, members, coverage,
    # and one grouped count per coverage level (community, compound, building).
    with django_assert_num_queries(10):
        response = client.get(reverse("grid_list"))
    assert len(response.context["page"].object_list) == 3 + extra_grids


def test_grid_detail(as_user, grid_worker, grids):
    point = grids["point"]
    response = as_user(grid_worker).get(reverse("grid_detail", args=[point.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["household_count"] == 2
    assert "周网长" in html and "吴网员" in html
    assert "扫楼摸底" in html
    assert "Grid point (combat unit)" in html
    # The parent grid is a community grid the compound's worker cannot see.
    assert response.context["parent"] is None


@pytest.mark.parametrize("which", ["community", "point"])
def test_grid_outside_the_jurisdiction_is_404(as_user, outsider, grids, which):
    response = as_user(outsider).get(reverse("grid_detail", args=[grids[which].pk]))
    assert response.status_code == 404


def test_grid_of_another_compound_is_404_for_grid_worker(as_user, grid_worker, grids):
    assert (
        as_user(grid_worker).get(reverse("grid_detail", args=[grids["lijingyuan"].pk])).status_code
        == 404
    )
    assert Grid.objects.count() == 3


def test_buildings_and_rooms_are_in_natural_order(as_user, community_staff):
    f.household(f"{ANKANG}/10栋")
    for room in ("1001", "201", "102"):
        f.household(f"{ANKANG}/1栋", room=room)
    client = as_user(community_staff)
    compound = client.get(reverse("region_detail", args=[region(ANKANG).pk]))
    assert [row.region.name for row in compound.context["children"]] == ["1栋", "2栋", "10栋"]
    building = client.get(reverse("region_detail", args=[region(f"{ANKANG}/1栋").pk]))
    rooms = [hh.room for hh in building.context["households"].object_list]
    assert rooms == ["101", "102", "201", "1001"]


def test_pages_are_chinese_by_default_whatever_the_browser_asks(client, grid_worker):
    client.force_login(grid_worker)

    english_browser = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    client.cookies["django_language"] = "en"
    switched = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-CN")

    assert english_browser.headers["Content-Language"] == "zh-hans"
    assert switched.headers["Content-Language"] == "en"


def test_a_whole_mobile_number_finds_its_resident(client, grid_worker):
    client.force_login(grid_worker)

    found = client.post(reverse("resident_search"), {"q": "13912345678"})

    assert "王秀英" in found.content.decode()


def test_grid_list_is_a_tree_with_a_filter(as_user, community_staff, grids):
    response = as_user(community_staff).get(reverse("grid_list"))

    tree = response.context["tree"]
    assert [n.grid.name for n in tree] == ["陡步河社区网格"]
    assert [n.grid.name for n in tree[0].children] == ["安康小区1号网格点"]
    assert 'id="grid-tree"' in response.content.decode()

    filtered = as_user(community_staff).get(reverse("grid_list") + "?q=网格点")
    assert filtered.context["tree"] is None
    assert [g.name for g in filtered.context["page"].object_list] == ["安康小区1号网格点"]


def test_breadcrumbs_end_at_the_current_page(as_user, community_staff, grids, lu_an):
    client = as_user(community_staff)
    building = region(f"{ANKANG}/1栋")

    for url, current in (
        (reverse("region_detail", args=[building.pk]), "1栋"),
        (reverse("household_detail", args=[lu_an["ankang"][0].pk]), "101室"),
        (reverse("grid_detail", args=[grids["point"].pk]), "安康小区1号网格点"),
    ):
        body = client.get(url).content.decode()
        crumbs = body[
            body.index('class="crumbs"') : body.index("</nav>", body.index('class="crumbs"'))
        ]
        assert crumbs.rstrip().endswith(f'<span aria-current="page">{current}</span>'), crumbs
