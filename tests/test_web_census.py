"""Census import and export through the browser: preview, commit, tokens, scope, roles."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from frontline.accounts.services import user_create
from frontline.people.census import CENSUS_COLUMNS
from frontline.people.idnumber import FEMALE, MALE
from frontline.people.models import Resident
from frontline.territory.models import Region

from . import factories as f
from .conftest import ANKANG, LIJINGYUAN, PASSWORD


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    return settings.UPLOAD_DIR


def sign_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def row(name, id_number, *, sex="男", room="101", place=ANKANG, building="3栋", **cells):
    district, township, community, compound = place.split("/")
    values = {
        "区县": district,
        "乡镇街道": township,
        "村社区": community,
        "小区": compound,
        "楼栋": building,
        "单元": "1",
        "房号": room,
        "姓名": name,
        "性别": sex,
        "身份证号": id_number,
        "联系电话": "13812340000",
        "工作单位": "",
        "党员": "否",
        "会网购": "是",
        "重点人群": "",
        "在外": "否",
    }
    values.update(cells)
    return [values[column] for column in CENSUS_COLUMNS]


def csv_upload(rows, name="census.csv"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CENSUS_COLUMNS)
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode("utf-8"), content_type="text/csv")


def xlsx_upload(rows, name="census.xlsx"):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(CENSUS_COLUMNS)
    for r in rows:
        sheet.append(r)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def good_rows():
    return [
        row("张伟", f.id_number(birth=dt.date(1970, 2, 3), sex=MALE)),
        row("刘芳", f.id_number(birth=dt.date(1972, 6, 9), sex=FEMALE), sex="女"),
    ]


def bad_rows():
    good = f.id_number(birth=dt.date(1970, 2, 3), sex=MALE)
    broken = good[:-1] + ("0" if good[-1] != "0" else "1")
    return [
        row("张伟", good),
        row("刘芳", broken, sex="女", room="102"),
        row("陈静", f.id_number(birth=dt.date(1990, 1, 1), sex=FEMALE), sex="男", room="103"),
    ]


def uploads(upload_dir: Path) -> list[Path]:
    """Sheets waiting for a confirmation (a preview's error list is not one)."""
    if not upload_dir.exists():
        return []
    return sorted(p for p in upload_dir.glob("*") if not p.name.endswith(".errors.csv"))


# --- who may import ---------------------------------------------------------------------


def test_import_page_renders_for_community_staff(client, community_staff):
    response = sign_in(client, community_staff).get(reverse("census_import"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert reverse("census_template") in html


@pytest.mark.parametrize("who", ["grid_worker", "volunteer", "outsider"])
def test_import_is_403_for_roles_that_cannot_import(client, request, who):
    client = sign_in(client, request.getfixturevalue(who))
    for response in (
        client.get(reverse("census_import")),
        client.post(reverse("census_import"), {"sheet": csv_upload(good_rows())}),
        client.post(reverse("census_import_commit", args=["0" * 32])),
        client.get(reverse("census_template")),
    ):
        assert response.status_code == 403
        assert "<h1>403</h1>" in response.content.decode()
    assert not Resident.objects.filter(name="张伟").exists()


def test_template_download_has_the_header_row(client, community_staff):
    response = sign_in(client, community_staff).get(reverse("census_template"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in next(sheet.iter_rows(max_row=1))] == [
        *CENSUS_COLUMNS,
        "紧急联系人",
        "紧急联系电话",
        "与户主关系",
    ]


# --- preview and commit -----------------------------------------------------------------


def test_bad_sheet_preview_lists_every_error_and_writes_nothing(
    client, community_staff, upload_dir
):
    before = Resident.objects.count()
    response = sign_in(client, community_staff).post(
        reverse("census_import"), {"sheet": csv_upload(bad_rows())}
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert not result.ok and result.dry_run
    html = response.content.decode()
    assert "row 3, column 身份证号" in html
    assert "row 4, column 性别" in html
    assert "<td>3</td><td>身份证号</td>" in html
    assert "<td>4</td><td>性别</td>" in html
    assert len(result.errors) == html.count("<tr title=")
    assert "census_import_commit" not in html and "/commit/" not in html
    assert Resident.objects.count() == before
    assert uploads(upload_dir) == []


@pytest.mark.parametrize("make_upload", [csv_upload, xlsx_upload])
def test_good_sheet_preview_then_commit(client, community_staff, upload_dir, make_upload):
    client = sign_in(client, community_staff)
    preview = client.post(reverse("census_import"), {"sheet": make_upload(good_rows())})
    assert preview.status_code == 200
    result = preview.context["result"]
    assert result.ok and result.dry_run and result.residents_created == 2
    token = preview.context["token"]
    commit_url = reverse("census_import_commit", args=[token])
    assert commit_url in preview.content.decode()
    assert not Resident.objects.filter(name__in=["张伟", "刘芳"]).exists()
    (waiting,) = uploads(upload_dir)
    assert token in waiting.name and str(community_staff.pk) in waiting.name

    committed = client.post(commit_url)
    assert committed.status_code == 200
    assert committed.context["committed"] is True
    assert committed.context["result"].residents_created == 2
    assert set(
        Resident.objects.filter(name__in=["张伟", "刘芳"]).values_list("name", flat=True)
    ) == {
        "张伟",
        "刘芳",
    }
    assert uploads(upload_dir) == []
    # A token commits once; a refresh that re-posts it is told the sheet is already in.
    count = Resident.objects.count()
    again = client.post(commit_url, follow=True)
    assert again.redirect_chain == [(reverse("census_import"), 302)]
    assert "already been imported" in again.content.decode()
    assert Resident.objects.count() == count


def test_commit_token_is_bound_to_the_uploader(client, community_staff, city_admin, upload_dir):
    sign_in(client, community_staff)
    token = client.post(reverse("census_import"), {"sheet": csv_upload(good_rows())}).context[
        "token"
    ]
    other = sign_in(client.__class__(), city_admin)
    assert other.post(reverse("census_import_commit", args=[token])).status_code == 404
    assert not Resident.objects.filter(name="张伟").exists()
    assert len(uploads(upload_dir)) == 1
    # The uploader still can.
    assert client.post(reverse("census_import_commit", args=[token])).status_code == 200
    assert Resident.objects.filter(name="张伟").exists()


@pytest.mark.parametrize("token", ["0" * 32, "G" * 32, "..", "abc"])
def test_unknown_or_malformed_token_is_404(client, community_staff, token):
    response = sign_in(client, community_staff).post(reverse("census_import_commit", args=[token]))
    assert response.status_code == 404


def test_commit_is_post_only(client, community_staff):
    client = sign_in(client, community_staff)
    token = client.post(reverse("census_import"), {"sheet": csv_upload(good_rows())}).context[
        "token"
    ]
    assert client.get(reverse("census_import_commit", args=[token])).status_code == 405


def test_rows_outside_the_jurisdiction_are_errors(client, community_staff, upload_dir):
    rows = [row("外人", f.id_number(birth=dt.date(1966, 3, 3)), place=LIJINGYUAN)]
    response = sign_in(client, community_staff).post(
        reverse("census_import"), {"sheet": csv_upload(rows)}
    )
    result = response.context["result"]
    assert not result.ok
    assert "row 2" in response.content.decode()
    assert not Resident.objects.filter(name="外人").exists()
    assert uploads(upload_dir) == []


def test_wrong_file_type_is_refused_before_import(client, community_staff, upload_dir):
    bad = SimpleUploadedFile("notes.txt", b"hello")
    response = sign_in(client, community_staff).post(reverse("census_import"), {"sheet": bad})
    assert response.status_code == 200
    assert "result" not in response.context
    assert response.context["form"].errors["sheet"]
    assert uploads(upload_dir) == []


def test_corrupt_xlsx_is_reported(client, community_staff, upload_dir):
    corrupt = SimpleUploadedFile("census.xlsx", b"PK\x03\x04 not really a zip")
    response = sign_in(client, community_staff).post(reverse("census_import"), {"sheet": corrupt})
    assert response.status_code == 200
    assert not response.context["result"].ok
    assert uploads(upload_dir) == []


# --- export -----------------------------------------------------------------------------


def _csv_names(response) -> set[str]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    assert header == [*CENSUS_COLUMNS, "紧急联系人", "紧急联系电话", "与户主关系"]
    return {r[header.index("姓名")] for r in reader}


def test_export_defaults_to_the_jurisdiction(client, community_staff):
    response = sign_in(client, community_staff).get(reverse("census_export"), {"format": "csv"})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert _csv_names(response) == {"王秀英", "李强", "李小红"}


def test_export_of_a_sub_region_as_xlsx(client, community_staff):
    building = Region.objects.get(path=f"{ANKANG}/2栋")
    response = sign_in(client, community_staff).get(
        reverse("census_export"), {"region": building.pk, "format": "xlsx"}
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [*CENSUS_COLUMNS, "紧急联系人", "紧急联系电话", "与户主关系"]
    assert {r[CENSUS_COLUMNS.index("姓名")] for r in rows[1:]} == {"李强", "李小红"}


def test_export_of_a_region_outside_is_404(client, lu_an):
    outsider_staff = user_create(
        username="gulou_staff",
        role="community_staff",
        region=Region.objects.get(path="金安区/鼓楼街道/鼓楼社区"),
        password=PASSWORD,
    )
    client = sign_in(client, outsider_staff)
    for path in (ANKANG, "裕安区/城南镇", "裕安区"):
        region = Region.objects.get(path=path)
        assert client.get(reverse("census_export"), {"region": region.pk}).status_code == 404
    assert _csv_names(client.get(reverse("census_export"), {"format": "csv"})) == {"孙丽"}


@pytest.mark.parametrize("who", ["grid_worker", "volunteer", "outsider"])
def test_export_is_403_for_roles_that_cannot_export(client, request, who):
    response = sign_in(client, request.getfixturevalue(who)).get(reverse("census_export"))
    assert response.status_code == 403


def test_export_rejects_unknown_format(client, community_staff):
    response = sign_in(client, community_staff).get(reverse("census_export"), {"format": "pdf"})
    assert response.status_code == 400


@pytest.mark.parametrize("make_upload", [csv_upload, xlsx_upload])
def test_sheet_that_changes_nothing_says_so_and_offers_no_confirm(
    client, community_staff, upload_dir, make_upload
):
    client = sign_in(client, community_staff)
    rows = good_rows()
    first = client.post(reverse("census_import"), {"sheet": make_upload(rows)})
    client.post(reverse("census_import_commit", args=[first.context["token"]]))

    again = client.post(reverse("census_import"), {"sheet": make_upload(rows)})

    assert again.status_code == 200
    assert again.context["unchanged"] is True
    html = again.content.decode()
    assert "Nothing to change: every row matches what is recorded." in html
    assert 'class="primary big"' not in html
    assert again.context["token"] is None
    # Nothing waits for a confirmation that will never come.
    assert uploads(upload_dir) == []


@pytest.mark.parametrize(
    "column,value", [("工作单位", "六安市第一人民医院"), ("重点人群", "低保"), ("党员", "是")]
)
def test_sheet_with_one_change_still_offers_confirm(client, community_staff, column, value):
    client = sign_in(client, community_staff)
    rows = good_rows()
    first = client.post(reverse("census_import"), {"sheet": csv_upload(rows)})
    client.post(reverse("census_import_commit", args=[first.context["token"]]))
    rows[0][CENSUS_COLUMNS.index(column)] = value

    again = client.post(reverse("census_import"), {"sheet": csv_upload(rows)})

    assert again.context["unchanged"] is False
    assert again.context["result"].residents_updated == 1
    html = again.content.decode()
    assert "Nothing to change" not in html
    assert reverse("census_import_commit", args=[again.context["token"]]) in html
