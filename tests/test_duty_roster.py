"""The duty roster: overlapping shifts refused, gaps merged, check-in by the person only."""

from __future__ import annotations

import datetime as dt

import pytest

from frontline.core.errors import DomainError, NotFound, PermissionDenied
from frontline.duty import roster
from frontline.duty.models import Shift
from frontline.duty.roster import Gap, ShiftOverlap, merge_gaps

from .conftest import ANKANG, LIJINGYUAN
from .duty_helpers import at, english, gate, person


@pytest.fixture(autouse=True)
def _english():
    with english():
        yield


@pytest.fixture
def post(lu_an):
    return gate()


@pytest.fixture
def zhang(lu_an):
    return person("zhang", name="张卫")


def test_a_shift_is_written_inside_the_schedulers_jurisdiction(
    post, zhang, grid_worker, town_staff
):
    shift = roster.shift_create(
        post=post, person=zhang, start=at(4, 20), end=at(5, 8), actor=town_staff
    )

    assert shift.compound_id == post.compound_id and shift.community_id == post.community_id


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (at(4, 22), at(5, 2)),  # inside
        (at(4, 18), at(4, 21)),  # across the start
        (at(5, 7), at(5, 9)),  # across the end
        (at(4, 19), at(5, 9)),  # around
        (at(4, 20), at(5, 8)),  # the same
    ],
)
def test_an_overlapping_shift_of_the_same_person_is_refused(post, zhang, start, end):
    roster.shift_create(post=post, person=zhang, start=at(4, 20), end=at(5, 8))
    other = gate(name="北门卡点")

    with pytest.raises(ShiftOverlap, match="南门卡点"):
        roster.shift_create(post=other, person=zhang, start=start, end=end)

    assert Shift.objects.count() == 1


def test_back_to_back_shifts_do_not_overlap(post, zhang):
    roster.shift_create(post=post, person=zhang, start=at(4, 8), end=at(4, 20))
    roster.shift_create(post=post, person=zhang, start=at(4, 20), end=at(5, 8))

    assert Shift.objects.count() == 2


def test_two_people_may_share_a_post_at_the_same_time(post, zhang):
    li = person("li")
    roster.shift_create(post=post, person=zhang, start=at(4, 8), end=at(4, 20))
    roster.shift_create(post=post, person=li, start=at(4, 8), end=at(4, 20))

    assert Shift.objects.count() == 2


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (at(4, 8), at(4, 8), "ends after"),
        (at(4, 9), at(4, 8), "ends after"),
        (at(4, 8), at(5, 9), "24 hours"),
        (dt.datetime(2026, 4, 4, 8), at(4, 9), "offset"),
    ],
)
def test_a_shift_must_end_after_it_starts(post, zhang, start, end, message):
    with pytest.raises(DomainError, match=message):
        roster.shift_create(post=post, person=zhang, start=start, end=end)
    assert not Shift.objects.exists()


def test_a_scheduler_without_the_role_or_outside_is_refused(post, zhang, grid_worker, outsider):
    with pytest.raises(PermissionDenied):
        roster.shift_create(
            post=post, person=zhang, start=at(4, 8), end=at(4, 9), actor=grid_worker
        )
    chief = person("chief_elsewhere", LIJINGYUAN, role="grid_chief")
    with pytest.raises(NotFound):
        roster.shift_create(post=post, person=zhang, start=at(4, 8), end=at(4, 9), actor=chief)


def test_a_person_outside_the_schedulers_jurisdiction_reads_as_nobody(post, community_staff):
    stranger = person("stranger", LIJINGYUAN)
    with pytest.raises(NotFound):
        roster.shift_create(
            post=post, person=stranger, start=at(4, 8), end=at(4, 9), actor=community_staff
        )


# --- gaps ---------------------------------------------------------------------------------


def test_gaps_are_merged_and_ordered(post, zhang):
    li, wu = person("li"), person("wu")
    # 20:00–02:00 and 01:00–04:00 overlap (two people): covered 20:00–04:00; 05:00–08:00.
    roster.shift_create(post=post, person=zhang, start=at(4, 20), end=at(5, 2))
    roster.shift_create(post=post, person=li, start=at(5, 1), end=at(5, 4))
    roster.shift_create(post=post, person=wu, start=at(5, 5), end=at(5, 8))

    gaps = roster.post_gaps(post, at(4, 18), at(5, 10))

    assert gaps == [
        Gap(at(4, 18), at(4, 20)),
        Gap(at(5, 4), at(5, 5)),
        Gap(at(5, 8), at(5, 10)),
    ]


def test_a_post_nobody_stands_at_is_one_gap(post):
    assert roster.post_gaps(post, at(4, 0), at(5, 0)) == [Gap(at(4, 0), at(5, 0))]


def test_a_fully_covered_window_has_no_gap(post, zhang):
    roster.shift_create(post=post, person=zhang, start=at(4, 0), end=at(4, 12))
    assert roster.post_gaps(post, at(4, 2), at(4, 10)) == []


@pytest.mark.parametrize(
    ("intervals", "expected"),
    [
        ([], [(0, 10)]),
        ([(0, 10)], []),
        ([(2, 4), (3, 5)], [(0, 2), (5, 10)]),
        ([(6, 8), (1, 2)], [(0, 1), (2, 6), (8, 10)]),
        ([(-5, 3), (9, 20)], [(3, 9)]),
        ([(2, 4), (4, 6)], [(0, 2), (6, 10)]),
    ],
)
def test_merge_gaps_on_numbers_of_hours(intervals, expected):
    def h(n):
        return at(4, 0) + dt.timedelta(hours=n)

    gaps = merge_gaps([(h(a), h(b)) for a, b in intervals], h(0), h(10))

    assert gaps == [Gap(h(a), h(b)) for a, b in expected]


def test_gaps_refuse_a_backwards_window(post):
    with pytest.raises(DomainError):
        roster.post_gaps(post, at(5, 0), at(4, 0))


# --- check-in ------------------------------------------------------------------------------


def test_the_person_on_the_shift_checks_in_and_out(post, zhang):
    shift = roster.shift_create(post=post, person=zhang, start=at(4, 20), end=at(5, 8))

    roster.shift_check_in(shift=shift, actor=zhang, at=at(4, 19, 55))
    roster.shift_check_in(shift=shift, actor=zhang, at=at(4, 20, 30))  # a retry
    roster.shift_check_out(shift=shift, actor=zhang, at=at(5, 8, 5))

    shift.refresh_from_db()
    assert shift.checked_in_at == at(4, 19, 55)
    assert shift.checked_out_at == at(5, 8, 5)


def test_somebody_else_cannot_check_in(post, zhang, grid_worker):
    shift = roster.shift_create(post=post, person=zhang, start=at(4, 20), end=at(5, 8))

    with pytest.raises(NotFound):
        roster.shift_check_in(shift=shift, actor=grid_worker, at=at(4, 20))
    with pytest.raises(NotFound):
        roster.shift_for_person(grid_worker, shift.pk)
    shift.refresh_from_db()
    assert shift.checked_in_at is None


@pytest.mark.parametrize(("when", "message"), [((4, 18), "early"), ((5, 8), "over")])
def test_check_in_only_around_the_shift(post, zhang, when, message):
    shift = roster.shift_create(post=post, person=zhang, start=at(4, 20), end=at(5, 8))
    with pytest.raises(DomainError, match=message):
        roster.shift_check_in(shift=shift, actor=zhang, at=at(*when))


def test_weekly_hours_count_only_the_week(post, zhang):
    roster.shift_create(post=post, person=zhang, start=at(5, 20), end=at(6, 8))  # Sun→Mon
    roster.shift_create(post=post, person=zhang, start=at(7, 8), end=at(7, 20))

    # The week from Monday 6 April: 8 hours of the first shift, 12 of the second.
    assert roster.weekly_hours([zhang], dt.date(2026, 4, 6)) == {zhang.pk: 20.0}


def test_posts_roll_up_and_stay_in_the_jurisdiction(lu_an, town_staff, outsider):
    gate()
    gate(LIJINGYUAN, "丽景苑东门")

    assert [p.name for p in roster.posts_for(town_staff)] == ["南门卡点"]
    assert [p.name for p in roster.posts_for(outsider)] == ["丽景苑东门"]


def test_a_post_needs_a_place_of_community_level_or_below(lu_an):
    from . import factories as f

    with pytest.raises(DomainError):
        roster.post_create(region=f.region("裕安区/城南镇"), name="镇卡点", kind="checkpoint")
    with pytest.raises(DomainError):
        roster.post_create(region=f.region(ANKANG), name="x", kind="castle")


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_write_one_of_two_overlapping_shifts(lu_an):
    """The check and the insert run under the person's lock: of two overlapping shifts
    submitted at the same moment from two connections, exactly one is written."""
    import threading
    import time

    from django.db import OperationalError, connection

    post, other = gate(), gate(name="北门卡点")
    zhang = person("zhang_race")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def schedule(target):
        try:
            barrier.wait()
            for _attempt in range(200):
                try:
                    roster.shift_create(post=target, person=zhang, start=at(4, 20), end=at(5, 8))
                except OperationalError as exc:
                    # The test database on SQLite is in memory with a shared cache, which
                    # answers "table is locked" at once instead of waiting out the busy
                    # timeout as the real database file does: wait here instead.
                    assert "locked" in str(exc)
                    time.sleep(0.01)
                    continue
                outcomes.append("written")
                break
        except ShiftOverlap:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=schedule, args=(p,)) for p in (post, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["refused", "written"]
    assert Shift.objects.filter(person=zhang).count() == 1


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        (at(4, 0), at(5, 0), "00:00–24:00"),  # the whole day: not 00:00–00:00
        (at(4, 20), at(5, 0), "20:00–24:00"),
        (at(4, 4), at(4, 6), "04:00–06:00"),
        (at(3, 22), at(4, 2), "04-03 22:00–02:00"),
        (at(4, 22), at(5, 2), "22:00–04-05 02:00"),
    ],
)
def test_a_gap_reads_like_a_duty_officer_says_it(start, end, label):
    assert roster.span_label(start, end, dt.date(2026, 4, 4)) == label


def test_the_roster_of_an_empty_day_shows_one_gap_to_midnight(post, community_staff):
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(community_staff)
    page = client.get(reverse("duty_roster", args=[post.pk]) + "?date=2026-04-04").content.decode()

    assert "00:00–24:00" in page and "00:00–00:00" not in page
