"""Named people at different scopes, over a small piece of Lu'an.

city_admin   六安市 (everything)
town_staff   裕安区/城南镇
grid_worker  裕安区/城南镇/陡步河社区/安康小区
outsider     金安区/鼓楼街道/鼓楼社区/丽景苑小区  (sees none of 城南镇)
"""

from __future__ import annotations

import datetime as dt

import pytest

from frontline.accounts.services import user_create
from frontline.territory.services import city

from . import factories as f

ANKANG = "裕安区/城南镇/陡步河社区/安康小区"
CHUANGYE = "裕安区/城南镇/城南社区/创业小区"
LIJINGYUAN = "金安区/鼓楼街道/鼓楼社区/丽景苑小区"
PASSWORD = "frontline-test-pw"


@pytest.fixture(autouse=True, scope="session")
def _audit_table_flushable():
    """Transactional tests (the browser ones) empty every table after each test with
    `flush`, which the audit table's append-only triggers refuse. Only here, the flush
    lifts them inside its own transaction and puts them back before it commits."""
    from django.db import connection

    from frontline.audit import triggers

    operations = type(connection.ops)
    original = operations.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        if triggers.TABLE not in tables or not statements:
            return statements
        vendor = self.connection.vendor
        return [*triggers.drop_sql(vendor), *statements, *triggers.create_sql(vendor)]

    operations.sql_flush = sql_flush
    yield
    operations.sql_flush = original


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's cost is the point in production and pure waiting in tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit counters live in the cache and are keyed by account id, which the next
    # test's accounts reuse after a rollback.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def lu_an(db):
    """Three compounds in two districts, with a few households and residents each."""
    ankang_1 = f.household(f"{ANKANG}/1栋", room="101", phone="13800001111")
    f.resident(
        ankang_1,
        "王秀英",
        sex=f.FEMALE,
        birth=dt.date(1941, 3, 2),
        phone="13912345678",
        care_groups=("独居老人",),
        can_order_online=False,
    )
    ankang_2 = f.household(f"{ANKANG}/2栋", room="302")
    f.resident(ankang_2, "李强", phone="13700002222", is_party_member=True, can_order_online=True)
    f.resident(ankang_2, "李小红", sex=f.FEMALE, birth=dt.date(2021, 8, 1), care_groups=("婴幼儿",))
    chuangye = f.household(f"{CHUANGYE}/1栋", room="201")
    f.resident(chuangye, "赵建国", birth=dt.date(1950, 1, 9), care_groups=("低保", "残疾人"))
    lijing = f.household(f"{LIJINGYUAN}/5栋", unit="2", room="502")
    f.resident(lijing, "孙丽", sex=f.FEMALE, phone="13655556666", can_order_online=True)
    return {"ankang": [ankang_1, ankang_2], "chuangye": chuangye, "lijingyuan": lijing}


def _user(username, role, path):
    region = city() if path is None else f.region(path)
    return user_create(username=username, role=role, region=region, password=PASSWORD)


@pytest.fixture
def city_admin(lu_an):
    return _user("city_admin", "city_admin", None)


@pytest.fixture
def town_staff(lu_an):
    return _user("town_staff", "township_staff", "裕安区/城南镇")


@pytest.fixture
def community_staff(lu_an):
    return _user("community_staff", "community_staff", "裕安区/城南镇/陡步河社区")


@pytest.fixture
def grid_worker(lu_an):
    return _user("grid_worker", "grid_worker", ANKANG)


@pytest.fixture
def volunteer(lu_an):
    return _user("volunteer", "volunteer", ANKANG)


@pytest.fixture
def outsider(lu_an):
    return _user("outsider", "grid_worker", LIJINGYUAN)
