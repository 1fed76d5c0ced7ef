"""Who sees and does what: the role matrix, written out as a table, checked on every surface.

The table below is the expected answer, typed from the README's role table (the product
decision), not read from `frontline.accounts.policy`: if the policy and this table ever
disagree, one of them is wrong and this test says which cell.

Every person here is scoped to a region that holds 王秀英 (安康小区 1栋 101), so that what
they are refused is refused by their role, not by their jurisdiction.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from frontline.accounts.models import User
from frontline.accounts.policy import Action, policy_for
from frontline.accounts.services import user_create, user_token
from frontline.audit.models import AuditAction, AuditEvent
from frontline.people.models import Resident
from frontline.territory.services import city

from . import factories as f
from .conftest import ANKANG, PASSWORD

# role → where the account is scoped (None: the city)
SCOPES = {
    "city_admin": None,
    "district_staff": "裕安区",
    "township_staff": "裕安区/城南镇",
    "community_staff": "裕安区/城南镇/陡步河社区",
    "grid_chief": ANKANG,
    "grid_worker": ANKANG,
    "cadre": ANKANG,
    "volunteer": ANKANG,
    "superuser": None,
}

# The expected answers. Y: allowed / shown in full; -: refused / masked / absent.
#                     full_id full_phone birth_date health_notes import export transfer audit
MATRIX_TEXT = """
city_admin            Y       Y          Y          Y            Y      Y      Y        Y
district_staff        Y       Y          Y          Y            Y      Y      Y        -
township_staff        Y       Y          Y          Y            Y      Y      Y        -
community_staff       Y       Y          Y          Y            Y      Y      Y        -
grid_chief            -       Y          -          Y            -      -      -        -
grid_worker           -       Y          -          Y            -      -      -        -
cadre                 -       -          -          -            -      -      -        -
volunteer             -       -          -          -            -      -      -        -
superuser             Y       Y          Y          Y            Y      Y      Y        Y
"""
COLUMNS = [
    "full_id",
    "full_phone",
    "birth_date",
    "health_notes",
    "import",
    "export",
    "transfer",
    "audit",
]
MATRIX = {
    line.split()[0]: dict(zip(COLUMNS, (cell == "Y" for cell in line.split()[1:]), strict=True))
    for line in MATRIX_TEXT.strip().splitlines()
}
ROLES = list(MATRIX)
NOTES = "糖尿病，每日注射胰岛素"
# 王秀英's identifiers, written here rather than read back, so that a leak is a literal match.
WANG_ID = "34150219410302002X"
WANG_PHONE = "13912345678"


@pytest.fixture
def wang(lu_an):
    resident = Resident.objects.get(name="王秀英")
    resident.id_number = WANG_ID
    resident.health_notes = NOTES
    resident.save(update_fields=["id_number", "health_notes"])
    assert resident.phone == WANG_PHONE and resident.birth_date == dt.date(1941, 3, 2)
    return resident


@pytest.fixture
def person(wang):
    def make(role: str) -> User:
        if role == "superuser":
            return User.objects.create_superuser("root", password=PASSWORD)
        scope = SCOPES[role]
        region = city() if scope is None else f.region(scope)
        return user_create(username=role, role=role, region=region, password=PASSWORD)

    return make


def _page(user: User, url: str, **kwargs):
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.get(url, **kwargs)


def _api(user: User, url: str):
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {user_token(user=user)}", HTTP_ACCEPT_LANGUAGE="en"
    )
    return client.get(url)


@pytest.mark.parametrize("role", ROLES)
def test_policy_answers_the_table(person, wang, role):
    policy = policy_for(person(role))
    expected = MATRIX[role]
    answers = {
        "full_id": policy.can(Action.SEE_FULL_ID, wang),
        "full_phone": policy.can(Action.SEE_FULL_PHONE, wang),
        "birth_date": policy.birth_date(wang) is not None,
        "health_notes": policy.health_notes(wang) is not None,
        "import": policy.can(Action.IMPORT_CENSUS),
        "export": policy.can(Action.EXPORT_CENSUS, wang),
        "transfer": policy.can(Action.TRANSFER, wang),
        "audit": policy.can(Action.READ_AUDIT),
    }
    assert answers == expected


@pytest.mark.parametrize("role", ROLES)
def test_household_page_shows_what_the_table_says(person, wang, role):
    user = person(role)
    html = _page(user, reverse("household_detail", args=[wang.household_id])).content.decode()
    expected = MATRIX[role]
    assert "王秀英" in html  # everyone here may view her
    # The page shows every ID masked; the roles that may see it in full reveal it on
    # request (a POST, audited) and the others are refused.
    assert WANG_ID not in html and "341502********002X" in html
    reveal = reverse("resident_reveal", args=[wang.pk])
    assert (reveal in html) == expected["full_id"]
    client = Client()
    client.force_login(user)
    revealed = client.post(reveal, headers={"HX-Request": "true"})
    assert revealed.status_code == (200 if expected["full_id"] else 403)
    assert (WANG_ID in revealed.content.decode()) == expected["full_id"]
    assert (WANG_PHONE in html) == expected["full_phone"]
    assert (NOTES in html) == expected["health_notes"]
    # Never the birth date's digits beside a masked ID: that would be the ID again.
    if not expected["full_id"]:
        assert "19410302" not in html and "1941-03-02" not in html
    if not expected["full_phone"]:
        assert "139****5678" in html


@pytest.mark.parametrize("role", ROLES)
def test_api_shows_what_the_table_says(person, wang, role):
    user = person(role)
    expected = MATRIX[role]
    detail = _api(user, f"/api/v1/residents/{wang.pk}").json()
    listed = _api(user, f"/api/v1/residents?region={ANKANG}").json()["results"]
    household = _api(user, f"/api/v1/households/{wang.household_id}").json()
    for data in (
        detail,
        next(r for r in listed if r["id"] == wang.pk),
        next(r for r in household["residents"] if r["id"] == wang.pk),
    ):
        assert (data["id_number"] == WANG_ID) == expected["full_id"]
        assert (data["phone"] == WANG_PHONE) == expected["full_phone"]
        assert (data["birth_date"] == "1941-03-02") == expected["birth_date"]
        assert data["birth_date"] in ("1941-03-02", None)
        assert data["age"] >= 85
    assert (detail["health_notes"] == NOTES) == expected["health_notes"]
    if not expected["health_notes"]:
        assert detail["health_notes"] is None


@pytest.mark.parametrize("role", ROLES)
def test_census_surfaces_follow_the_table(person, wang, role):
    user = person(role)
    expected = MATRIX[role]
    import_page = _page(user, reverse("census_import"))
    assert import_page.status_code == (200 if expected["import"] else 403)
    export = _page(
        user, reverse("census_export"), query_params={"region": wang.building_id, "format": "csv"}
    )
    assert export.status_code == (200 if expected["export"] else 403)
    if expected["export"]:
        body = b"".join(export.streaming_content).decode("utf-8-sig")
        # An export carries identifiers in full (so that it imports back): only the
        # roles that see them in full may take one.
        assert WANG_ID in body and WANG_PHONE in body


# --- defect 1: a masked ID rebuilt from the birth date and a yes/no search -------------


def test_volunteer_cannot_rebuild_the_id_from_anything_the_api_gives(person, wang):
    volunteer = person("volunteer")
    bodies = [
        _api(volunteer, url).content.decode()
        for url in (
            f"/api/v1/residents/{wang.pk}",
            f"/api/v1/residents?region={ANKANG}",
            "/api/v1/residents?q=王秀英",
            f"/api/v1/households/{wang.household_id}",
            f"/api/v1/households?region={ANKANG}",
        )
    ]
    for body in bodies:
        # The hidden eight digits of the ID are the birth date, in any spelling.
        for spelling in ("19410302", "1941-03-02", "1941/03/02", "1941年3月2日"):
            assert spelling not in body
        assert WANG_ID not in body and WANG_PHONE not in body


@pytest.mark.parametrize("role", ["grid_chief", "grid_worker", "cadre", "volunteer"])
@pytest.mark.parametrize("query", [WANG_ID, WANG_ID.lower(), "3415021941"])
def test_a_masked_role_cannot_search_by_id_number(person, wang, role, query):
    user = person(role)
    response = _api(user, f"/api/v1/residents?q={query}")
    assert response.status_code == 400
    assert "ID number" in response.json()["detail"] or "Search by name" in response.json()["detail"]
    page = Client()
    page.force_login(user)
    page.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = page.post(reverse("resident_search"), {"q": query}).content.decode()
    assert "王秀英" not in html and "Search by name" in html


@pytest.mark.parametrize("role", ["city_admin", "community_staff", "superuser"])
def test_a_full_id_role_still_finds_by_id_number(person, wang, role):
    data = _api(person(role), f"/api/v1/residents?q={WANG_ID}").json()
    assert [r["id"] for r in data["results"]] == [wang.pk]


# --- defect 2: a masked phone recovered by search ----------------------------------------


@pytest.mark.parametrize("role", ["cadre", "volunteer"])
def test_a_masked_phone_role_cannot_search_by_whole_phone(person, wang, role):
    response = _api(person(role), f"/api/v1/residents?q={WANG_PHONE}")
    assert response.status_code == 400
    assert "phone" in response.json()["detail"]


@pytest.mark.parametrize("role", ["grid_worker", "community_staff"])
def test_a_full_phone_role_finds_by_whole_phone(person, wang, role):
    data = _api(person(role), f"/api/v1/residents?q={WANG_PHONE}").json()
    assert [r["id"] for r in data["results"]] == [wang.pk]


def test_the_last_four_digits_still_work_for_everyone(person, wang):
    data = _api(person("volunteer"), "/api/v1/residents?q=5678").json()
    assert [r["phone"] for r in data["results"]] == ["139****5678"]


def test_searches_are_rate_limited_per_account(person, wang, settings):
    settings.FRONTLINE_SEARCH_PER_MINUTE = 5
    volunteer, worker = person("volunteer"), person("grid_worker")
    codes = [_api(volunteer, f"/api/v1/residents?q={n:04d}").status_code for n in range(7)]
    assert codes == [200] * 5 + [429] * 2
    refused = _api(volunteer, "/api/v1/residents?q=王")
    assert "Too many searches" in refused.json()["detail"]
    assert "Expected available" not in refused.json()["detail"]
    assert int(refused["Retry-After"]) <= 60
    # The page shares the account's budget, and says so in words, not a bare 429.
    page = Client()
    page.force_login(volunteer)
    page.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = page.post(reverse("resident_search"), {"q": "王"})
    assert response.status_code == 429 and "Too many searches" in response.content.decode()
    # Another account has its own budget.
    assert _api(worker, "/api/v1/residents?q=王").status_code == 200


# --- the audit trail sees reads --------------------------------------------------------


def test_reads_of_people_leave_a_trace(person, wang):
    worker = person("grid_worker")
    _page(worker, reverse("household_detail", args=[wang.household_id]))
    _api(worker, f"/api/v1/residents/{wang.pk}")
    _api(worker, f"/api/v1/households/{wang.household_id}")
    _api(worker, f"/api/v1/residents?q={WANG_PHONE}")
    reads = [AuditAction.VIEW_HOUSEHOLD, AuditAction.VIEW_RESIDENT, AuditAction.SEARCH]
    events = list(
        AuditEvent.objects.filter(actor_name="grid_worker", action__in=reads).order_by("id")
    )
    assert [(e.action, e.object_type, e.detail.get("channel")) for e in events] == [
        (AuditAction.VIEW_HOUSEHOLD, "household", "page"),
        (AuditAction.VIEW_RESIDENT, "resident", "api"),
        (AuditAction.VIEW_HOUSEHOLD, "household", "api"),
        (AuditAction.SEARCH, "resident", "api"),
    ]
    assert events[0].object_id == str(wang.household_id)
    assert events[0].region == f"{ANKANG}/1栋"
    assert events[0].detail["full_phone"] is True and events[0].detail["full_id"] is False
    # The query is kept masked: the trail is not a second copy of the phone book.
    assert events[3].detail["query"] == "139****5678"
    assert WANG_PHONE not in str([e.detail for e in events])


def test_a_reveal_is_audited_and_an_outsider_cannot_reveal(person, wang, outsider):
    staff = person("community_staff")
    client = Client()
    client.force_login(staff)
    client.post(reverse("resident_reveal", args=[wang.pk]))
    event = AuditEvent.objects.get(action=AuditAction.REVEAL)
    assert (event.actor_name, event.object_id) == ("community_staff", str(wang.pk))
    assert event.detail["field"] == "id_number"
    # A GET reveals nothing (a link prefetched by a browser must not read a number).
    assert client.get(reverse("resident_reveal", args=[wang.pk])).status_code == 405
    other = Client()
    other.force_login(outsider)
    assert other.post(reverse("resident_reveal", args=[wang.pk])).status_code == 403


def test_an_outsider_refused_leaves_no_view_event(lu_an, outsider, wang):
    response = _page(outsider, reverse("household_detail", args=[wang.household_id]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.VIEW_HOUSEHOLD).exists()


# --- identifiers stay out of URLs (defect 10) ------------------------------------------


def test_the_language_switch_does_not_carry_the_query_string(person, wang):
    worker = person("grid_worker")
    html = _page(worker, reverse("home") + "?q=13912345678").content.decode()
    assert 'name="next" value="/"' in html
    assert "13912345678" not in html
    # Filters come back (a newcomer lost her grid filter), long numbers never do.
    html = _page(worker, reverse("home") + "?grid=11&x=13912345678").content
    assert 'name="next" value="/?grid=11"' in html.decode()


# --- found by a newcomer's walk ----------------------------------------------------------


def test_search_results_show_ids_masked_even_to_staff(person, wang):
    """Pages show every ID masked until 显示 is pressed; the results list showed them."""
    client = Client()
    client.force_login(person("community_staff"))
    html = client.post(reverse("resident_search"), {"q": "王秀英"}).content.decode()
    assert "王秀英" in html and WANG_ID not in html and "341502********002X" in html


def test_the_age_does_not_move_on_the_birthday(wang, time_machine):
    """A daily poll of ages would reveal the birthday, and so the ID's hidden digits."""
    time_machine.move_to(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC))
    before = Resident.objects.get(pk=wang.pk).age
    time_machine.move_to(dt.datetime(2026, 3, 3, 12, tzinfo=dt.UTC))  # her birthday: 2 March
    assert Resident.objects.get(pk=wang.pk).age == before == 2026 - 1941


@pytest.mark.parametrize(
    ("role", "sees"),
    [("volunteer", False), ("cadre", False), ("grid_worker", True), ("community_staff", True)],
)
def test_visit_notes_are_read_like_health_notes(person, wang, role, sees):
    from frontline.people.visits import visit_record

    writer = person("grid_chief")
    visit_record(
        actor=writer,
        household=wang.household,
        outcome="visited",
        purpose="care",
        note="血压正常",
        needs="需要降压药",
    )
    user = person(role)
    html = _page(user, reverse("household_detail", args=[wang.household_id])).content.decode()
    assert ("血压正常" in html) == sees and ("需要降压药" in html) == sees
    rows = _api(user, f"/api/v1/visits?region={ANKANG}").json()["results"]
    assert [(r["note"], r["needs"]) for r in rows] == (
        [("血压正常", "需要降压药")] if sees else [(None, None)]
    )
    # Whoever wrote the visit reads it back.
    rows = _api(writer, f"/api/v1/visits?region={ANKANG}").json()["results"]
    assert rows[0]["note"] == "血压正常"


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        ("江淑琴18582586198", "江淑琴*******6198"),
        ("+8618582586198", "+*********6198"),
        ("185-8258-6198", "***-****-6198"),
        ("13912345678", "139****5678"),
        ("王秀英", "王秀英"),
        ("5678", "5678"),
    ],
)
def test_the_trail_keeps_queries_masked_whatever_their_shape(query, kept):
    from frontline.people.queries import masked_query

    assert masked_query(query) == kept


def test_a_refused_search_leaves_a_trace_and_the_schema_leaves_none(person, wang):
    volunteer = person("volunteer")
    assert _api(volunteer, f"/api/v1/residents?q={WANG_ID}").status_code == 400
    event = AuditEvent.objects.get(action=AuditAction.SEARCH, actor_name="volunteer")
    assert event.detail["refused"] is True and WANG_ID not in str(event.detail)
    before = AuditEvent.objects.count()
    assert Client().get("/api/v1/openapi.json").status_code == 200
    assert AuditEvent.objects.count() == before


# --- health operations (issue 9), typed from the README's health table --------------------
#                     zones testing sample isolation health_visit transfers health_hub
HEALTH_MATRIX_TEXT = """
city_admin            Y     Y       Y      Y         Y            Y         Y
district_staff        Y     Y       Y      Y         Y            Y         Y
township_staff        Y     Y       Y      Y         Y            Y         Y
community_staff       Y     Y       Y      Y         Y            Y         Y
grid_chief            -     -       Y      Y         Y            -         Y
grid_worker           -     -       Y      -         Y            -         Y
cadre                 -     -       Y      -         Y            -         Y
volunteer             -     -       Y      -         -            -         Y
superuser             Y     Y       Y      Y         Y            Y         Y
"""
HEALTH_COLUMNS = {
    "zones": Action.MANAGE_ZONES,
    "testing": Action.MANAGE_TESTING,
    "sample": Action.RECORD_SAMPLE,
    "isolation": Action.MANAGE_ISOLATION,
    "health_visit": Action.RECORD_HEALTH_VISIT,
    "transfers": Action.MANAGE_TRANSFERS,
    "health_hub": Action.VIEW,
}
HEALTH_MATRIX = {
    line.split()[0]: dict(
        zip(HEALTH_COLUMNS, (cell == "Y" for cell in line.split()[1:]), strict=True)
    )
    for line in HEALTH_MATRIX_TEXT.strip().splitlines()
}


@pytest.mark.parametrize("role", ROLES)
def test_policy_answers_the_health_table(person, wang, role):
    policy = policy_for(person(role))

    answers = {column: policy.can(action, wang) for column, action in HEALTH_COLUMNS.items()}

    assert answers == HEALTH_MATRIX[role]


@pytest.mark.parametrize("role", ROLES)
def test_zones_and_the_health_hub_follow_the_health_table(person, wang, role):
    user = person(role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token(user=user)}")

    created = client.post(
        "/api/v1/zones",
        {
            "region": f"{ANKANG}/1栋",
            "level": "sealed",
            "since": "2022-04-04T00:00:00+08:00",
            "reason": "出现阳性",
        },
        format="json",
    )
    hub = _page(user, reverse("health_index"))

    assert created.status_code == (201 if HEALTH_MATRIX[role]["zones"] else 403)
    assert hub.status_code == (200 if HEALTH_MATRIX[role]["health_hub"] else 403)
    assert ('href="/health/"' in hub.content.decode()) == HEALTH_MATRIX[role]["health_hub"]


# --- supervision (督查), typed from the README's supervision table -------------------------
#                     inspect rectify pages
SUPERVISION_MATRIX_TEXT = """
city_admin            Y       -       Y
district_staff        Y       Y       Y
township_staff        Y       Y       Y
community_staff       -       Y       Y
grid_chief            -       Y       Y
grid_worker           -       -       -
cadre                 -       -       -
volunteer             -       -       -
superuser             Y       Y       Y
"""
SUPERVISION_COLUMNS = ["inspect", "rectify", "pages"]
SUPERVISION_MATRIX = {
    line.split()[0]: dict(
        zip(SUPERVISION_COLUMNS, (cell == "Y" for cell in line.split()[1:]), strict=True)
    )
    for line in SUPERVISION_MATRIX_TEXT.strip().splitlines()
}


@pytest.mark.parametrize("role", ROLES)
def test_policy_answers_the_supervision_table(person, wang, role):
    policy = policy_for(person(role))

    answers = {
        "inspect": policy.can(Action.INSPECT, wang),
        "rectify": policy.can(Action.RECTIFY, wang),
        "pages": policy.may_view_supervision,
    }

    assert answers == SUPERVISION_MATRIX[role]


@pytest.mark.parametrize("role", ROLES)
def test_supervision_pages_and_api_follow_the_table(person, wang, role):
    from frontline.supervision.models import Problem
    from frontline.supervision.services import inspection_create
    from frontline.territory.models import Region

    user = person(role)
    inspector = user_create(
        username="inspector",
        role="township_staff",
        region=Region.objects.get(path="裕安区/城南镇"),
        password="frontline-test-pw",
    )
    inspection = inspection_create(
        region=Region.objects.get(path="裕安区/城南镇"),
        kind="unannounced",
        date=dt.date(2022, 4, 20),
        actor=inspector,
        notified_at=dt.datetime(2022, 4, 20, 9, tzinfo=dt.UTC),
        problems=[
            {
                "place": Region.objects.get(path=ANKANG),
                "category": "measures",
                "description": "卡口登记不全",
                "rectify_by": dt.datetime(2022, 4, 22, 18, tzinfo=dt.UTC),
            }
        ],
    )
    problem = Problem.objects.get(inspection=inspection)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token(user=user)}")

    created = client.post(
        "/api/v1/inspections",
        {"region": ANKANG, "kind": "routine", "date": "2022-04-21"},
        format="json",
    )
    acknowledged = client.post(f"/api/v1/problems/{problem.pk}/acknowledge", format="json")
    board = _page(user, reverse("inspection_board"))

    expected = SUPERVISION_MATRIX[role]
    assert created.status_code == (201 if expected["inspect"] else 403)
    assert acknowledged.status_code == (200 if expected["rectify"] else 403)
    assert board.status_code == (200 if expected["pages"] else 403)
