"""Photos on requests: at registration and at 交单, bounded, recognised by their bytes,
stored privately and served only to those who may see the request."""

from __future__ import annotations

import re
import stat

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from frontline.accounts.services import user_create, user_token
from frontline.core.errors import DomainError
from frontline.requests import photos as request_photos
from frontline.requests.models import Request, RequestPhoto
from frontline.requests.resident import link_issue, link_token
from frontline.requests.services import (
    request_create,
    request_deliver,
    request_dispatch,
    request_report,
)

from . import factories as f
from .conftest import ANKANG, PASSWORD

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
WEBP = b"RIFF\x00\x01\x00\x00WEBPVP8 " + b"\x00" * 200


@pytest.fixture(autouse=True)
def photo_dir(settings, tmp_path):
    settings.FRONTLINE_PHOTO_DIR = tmp_path / "photos"
    settings.FRONTLINE_REQUEST_PHOTO_MAX_MB = 1
    return settings.FRONTLINE_PHOTO_DIR


@pytest.fixture
def driver(lu_an):
    return user_create(
        username="driver", role="volunteer", region=f.region(ANKANG), password=PASSWORD
    )


def photo(content=JPEG, name="门锁.jpg"):
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def _english(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def test_photos_at_registration_are_kept_privately_and_shown_to_insiders(
    grid_worker, lu_an, photo_dir
):
    client = _english(grid_worker)
    response = client.post(
        reverse("request_create"),
        {
            "household": lu_an["ankang"][0].pk,
            "category": "repair",
            "description": "门锁坏了",
            "photos": [photo(JPEG, "a.jpg"), photo(PNG, "b.png"), photo(WEBP, "c.webp")],
        },
    )
    assert response.status_code == 302
    req = Request.objects.get()
    kept = list(req.photos.order_by("id"))
    assert [p.content_type for p in kept] == ["image/jpeg", "image/png", "image/webp"]
    assert all(p.step == "receive" for p in kept)
    for p in kept:
        path = photo_dir / p.path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        # A random name, never the uploader's. (Was `"a.jpg" not in p.path`, which failed
        # whenever the random hex ended in "a": one run in sixteen.)
        assert re.fullmatch(rf"{req.pk}/[0-9a-f]{{32}}\.(jpg|png|webp)", p.path), p.path

    page = client.get(reverse("request_detail", args=[req.pk])).content.decode()
    url = reverse("request_photo", args=[req.pk, kept[0].pk])
    assert url in page
    shown = client.get(url)
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    assert shown["X-Content-Type-Options"] == "nosniff"
    assert b"".join(shown.streaming_content) == JPEG


def test_an_outsider_and_a_wrong_pair_get_404(grid_worker, outsider, lu_an):
    req = request_create(
        actor=grid_worker,
        household=lu_an["ankang"][0],
        category="repair",
        description="灯",
        photos=[photo()],
    )
    other = request_create(
        actor=outsider, household=lu_an["lijingyuan"], category="repair", description="灯"
    )
    kept = req.photos.get()
    stranger = Client()
    stranger.force_login(outsider)

    assert stranger.get(reverse("request_photo", args=[req.pk, kept.pk])).status_code == 404
    # The outsider's own request with the photo's id does not reach it either.
    assert stranger.get(reverse("request_photo", args=[other.pk, kept.pk])).status_code == 404
    api = Client(HTTP_AUTHORIZATION=f"Bearer {user_token(user=outsider)}")
    assert api.get(reverse("api:request-photo", args=[req.pk, kept.pk])).status_code == 404


@pytest.mark.parametrize(
    ("uploads", "message"),
    [
        ([photo(b"%PDF-1.7 not a photo", "scan.jpg")], "scan.jpg is not a photo"),
        ([photo(b"<svg onload=alert(1)>", "x.png")], "x.png is not a photo"),
        ([photo(JPEG + b"\x00" * (1024 * 1024), "big.jpg")], "big.jpg is larger than 1 MB"),
        ([photo(), photo(), photo(), photo()], "At most 3 photos"),
    ],
)
def test_refused_photos_say_why_and_nothing_is_registered(grid_worker, lu_an, uploads, message):
    client = _english(grid_worker)

    response = client.post(
        reverse("request_create"),
        {
            "household": lu_an["ankang"][0].pk,
            "category": "repair",
            "description": "门锁坏了",
            "photos": uploads,
        },
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Request.objects.count() == 0 and RequestPhoto.objects.count() == 0


def test_photos_with_the_report(grid_worker, driver, lu_an):
    req = request_create(
        actor=grid_worker, household=lu_an["ankang"][0], category="repair", description="水管"
    )
    request_dispatch(request=req, assignee=driver, actor=grid_worker)
    request_deliver(request=req, actor=driver)
    client = _english(driver)

    response = client.post(
        reverse("request_step", args=[req.pk, "report"]),
        {"note": "修好了", "photos": [photo(PNG, "done.png")]},
    )

    assert response.status_code == 302
    kept = RequestPhoto.objects.get()
    assert kept.step == "report" and kept.uploaded_by == driver
    req.refresh_from_db()
    assert req.status == "reported"


def test_a_refused_report_photo_leaves_the_request_as_it_was(grid_worker, driver, lu_an):
    req = request_create(
        actor=grid_worker, household=lu_an["ankang"][0], category="repair", description="水管"
    )
    request_dispatch(request=req, assignee=driver, actor=grid_worker)
    request_deliver(request=req, actor=driver)

    with pytest.raises(DomainError):
        request_report(
            request=req, actor=driver, note="好了", photos=[photo(b"GIF89a...", "a.gif")]
        )

    req.refresh_from_db()
    assert req.status == "delivering" and RequestPhoto.objects.count() == 0


def test_the_api_takes_photos_as_multipart_and_lists_them(grid_worker, lu_an):
    api = Client(HTTP_AUTHORIZATION=f"Bearer {user_token(user=grid_worker)}")

    created = api.post(
        reverse("api:request-list"),
        {
            "household": lu_an["ankang"][0].pk,
            "category": "repair",
            "description": "门锁",
            "photos": [photo(JPEG, "a.jpg")],
        },
    )

    assert created.status_code == 201, created.content
    listed = created.json()["photos"]
    assert len(listed) == 1 and listed[0]["content_type"] == "image/jpeg"
    got = api.get(listed[0]["url"])
    assert got.status_code == 200 and b"".join(got.streaming_content) == JPEG
    refused = api.post(
        reverse("api:request-list"),
        {
            "household": lu_an["ankang"][0].pk,
            "category": "repair",
            "description": "门锁",
            "photos": [photo(b"MZ\x90\x00", "virus.jpg")],
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 400 and "virus.jpg is not a photo" in refused.content.decode()


def test_the_household_link_shows_its_own_photos_only(grid_worker, community_staff, lu_an):
    own, other = lu_an["ankang"]
    mine = request_create(
        actor=grid_worker, household=own, category="repair", description="灯", photos=[photo()]
    )
    theirs = request_create(
        actor=grid_worker, household=other, category="repair", description="灯", photos=[photo()]
    )
    token = link_token(link_issue(actor=community_staff, household=own))
    anonymous = Client()

    page = anonymous.get(reverse("resident_page", args=[token])).content.decode()
    url = reverse("resident_photo", args=[token, mine.pk, mine.photos.get().pk])
    assert url in page
    assert anonymous.get(url).status_code == 200
    foreign = reverse("resident_photo", args=[token, theirs.pk, theirs.photos.get().pk])
    assert anonymous.get(foreign).status_code == 404
    forged = reverse("resident_photo", args=["forged:x", mine.pk, mine.photos.get().pk])
    assert anonymous.get(forged).status_code == 403


def test_the_household_can_send_a_photo_through_its_link(community_staff, lu_an):
    token = link_token(link_issue(actor=community_staff, household=lu_an["ankang"][0]))

    response = Client().post(
        reverse("resident_page", args=[token]),
        {"category": "repair", "description": "漏水", "photos": [photo(PNG, "leak.png")]},
    )

    assert response.status_code == 302
    kept = RequestPhoto.objects.get()
    assert kept.uploaded_by is None and kept.request.channel == "resident"


def test_sniff_reads_the_bytes_not_the_name():
    assert request_photos.sniff(JPEG[:16]) == ("image/jpeg", ".jpg")
    assert request_photos.sniff(PNG[:16]) == ("image/png", ".png")
    assert request_photos.sniff(WEBP[:16]) == ("image/webp", ".webp")
    assert request_photos.sniff(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None
    assert request_photos.sniff(b"") is None
