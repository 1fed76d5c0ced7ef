"""Answers from outside the code under test: GB 11643's own examples, places whose names
share a prefix, a household whose members are partly away, the landline mask."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from frontline.core.masking import mask_id_number, mask_phone
from frontline.people.idnumber import FEMALE, MALE, InvalidIdNumber, parse_id_number
from frontline.people.models import Household, Resident
from frontline.people.stats import census_stats
from frontline.territory.models import Region

from . import factories as f


# GB 11643-1999's worked examples (the standard's text and its annex), check digit included.
@pytest.mark.parametrize(
    ("number", "birth", "sex"),
    [
        ("11010519491231002X", dt.date(1949, 12, 31), FEMALE),
        ("440524188001010014", dt.date(1880, 1, 1), MALE),
    ],
)
def test_the_standards_examples_decode(number, birth, sex):
    # The standard's 1880 example was a living person when it was written.
    info = parse_id_number(number, today=dt.date(1999, 7, 1))
    assert (info.birth_date, info.sex) == (birth, sex)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("110105194912310021", "check digit"),  # the standard's example, last digit changed
        ("44052418800101001X", "check digit"),
        # Checksums right (computed by hand from the MOD 11-2 weights), dates wrong.
        ("110105209912310010", "impossible"),  # 2099-12-31: not born yet
        ("340102199002300013", "does not exist"),  # 30 February
    ],
)
def test_bad_numbers_are_refused(number, reason):
    with translation.override("en"), pytest.raises(InvalidIdNumber, match=reason):
        parse_id_number(number, today=dt.date(2026, 11, 29))


def test_a_birth_more_than_130_years_ago_is_refused():
    with translation.override("en"), pytest.raises(InvalidIdNumber, match="impossible"):
        parse_id_number("440524188001010014", today=dt.date(2026, 11, 29))


def test_a_lower_case_x_is_the_same_number():
    assert parse_id_number("11010519491231002x").number == "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13912345678", "139****5678"),
        ("0564-3371234", "0564-***1234"),  # the area code stays, as the README promises
        ("05643371234", "0564***1234"),
        ("010-12345678", "010-****5678"),
        ("0551-65123456", "0551-****3456"),
        ("", ""),
    ],
)
def test_phone_masks(value, masked):
    assert mask_phone(value) == masked


def test_id_mask_hides_exactly_the_birth_date_digits():
    assert mask_id_number("11010519491231002X") == "110105********002X"


def test_sibling_regions_whose_names_share_a_prefix_are_apart(db, settings):
    from frontline.accounts.policy import policy_for
    from frontline.accounts.services import user_create

    short = f.household("裕安区/城南/城南社区/南苑/1栋")
    long = f.household("裕安区/城南镇/城南社区/南苑/1栋")
    f.resident(short, "甲", birth=dt.date(1970, 1, 1))
    f.resident(long, "乙", birth=dt.date(1970, 1, 2))
    staff = user_create(
        username="s", role="township_staff", region=Region.objects.get(path="裕安区/城南")
    )
    policy = policy_for(staff)
    assert list(Resident.objects.visible_to(staff).values_list("name", flat=True)) == ["甲"]
    assert policy.contains(short) and not policy.contains(long)
    assert not policy.contains(Region.objects.get(path="裕安区/城南镇"))
    assert census_stats(Region.objects.get(path="裕安区/城南"))["residents"] == 1


def test_a_household_with_members_both_away_and_not(db):
    household = f.household("裕安区/城南镇/陡步河社区/安康小区/3栋", room="501")
    f.resident(household, "在家", birth=dt.date(1960, 1, 1))
    f.resident(household, "外出", birth=dt.date(1990, 1, 1), away=True)
    household = Household.objects.get(pk=household.pk)
    assert (household.members, household.members_away) == (2, 1)
    assert household.lived_in  # someone is at home
    stats = census_stats(Region.objects.get(path="裕安区/城南镇/陡步河社区/安康小区"))
    assert (stats["households"], stats["residents"], stats["away"]) == (1, 2, 1)


def test_contains_path_takes_whole_names(db):
    from frontline.accounts.policy import policy_for
    from frontline.accounts.services import user_create

    f.region("裕安区/城南镇")
    staff = user_create(username="s", role="township_staff", region=f.region("裕安区/城南"))
    policy = policy_for(staff)
    assert policy.contains_path("裕安区/城南/城南社区/南苑/1栋")
    assert policy.contains_path("裕安区/城南")
    assert not policy.contains_path("裕安区/城南镇/城南社区")
    assert not policy.contains_path("裕安区")
