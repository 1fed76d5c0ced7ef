"""The Chinese catalogue: complete, compiled from the committed .po, and what users see."""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from frontline.accounts.models import Role
from frontline.people.census import RowError
from frontline.people.models import CARE_GROUP_LABELS, CareGroup

from .conftest import PASSWORD

LC_MESSAGES = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


def parse_po(text: str) -> list[Entry]:
    """The .po as written by makemessages: entries separated by blank lines.

    A parser of our own rather than the gettext tools, so that the check runs on a
    machine without them, which is also why the .mo is committed.
    """
    entries: list[Entry] = []
    keyword = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?) (\".*\")$")
    entry: Entry | None = None
    target: tuple[str, int] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            entry, target = None, None
            continue
        if line.startswith("#~"):
            continue  # obsolete entries are not in the catalogue
        if entry is None:
            entry = Entry(line=number)
            entries.append(entry)
        if line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        match = keyword.match(line)
        if match:
            name, index, literal = match.groups()
            target = ("msgstr", int(index or 0)) if name.startswith("msgstr") else (name, 0)
            value = ast.literal_eval(literal)
        else:
            assert line.startswith('"') and target, f"django.po:{number}: cannot read {line!r}"
            value = ast.literal_eval(line)
        name, index = target
        if name == "msgstr":
            entry.msgstr[index] = entry.msgstr.get(index, "") + value
        else:
            setattr(entry, name, (getattr(entry, name) or "") + value)
    return entries


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return parse_po(PO.read_text(encoding="utf-8"))


def messages(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if e.msgid]


def test_the_catalogue_has_entries_and_a_clean_header(entries):
    header = entries[0]
    assert header.msgid == "" and "fuzzy" not in header.flags
    assert "Plural-Forms: nplurals=1; plural=0;" in header.msgstr[0]
    assert "charset=UTF-8" in header.msgstr[0]
    assert len(messages(entries)) > 200


def test_every_entry_is_translated_and_none_is_fuzzy(entries):
    fuzzy = [f"line {e.line}: {e.msgid!r}" for e in messages(entries) if "fuzzy" in e.flags]
    assert not fuzzy, fuzzy
    empty = [
        f"line {e.line}: {e.msgid!r}"
        for e in messages(entries)
        if not e.msgstr or not all(s.strip() for s in e.msgstr.values())
    ]
    assert not empty, empty
    # Chinese has one plural form; a second msgstr would never be shown.
    assert all(list(e.msgstr) == [0] for e in messages(entries) if e.msgid_plural)


# %(name)s, %s, %d, %.1f ... and %% (a literal percent sign, not a placeholder).
_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?([sdifrxXeEgGc%])")


def placeholders(text: str) -> list[str]:
    found = [(name or "", conv) for name, conv in _PLACEHOLDER.findall(text) if conv != "%"]
    # Named placeholders may move in the sentence; unnamed ones must keep their order.
    return sorted(f"{n}:{c}" for n, c in found if n) + [f":{c}" for n, c in found if not n]


def test_translations_keep_every_placeholder(entries):
    wrong = []
    for e in messages(entries):
        if "python-format" in e.flags:
            expected = placeholders(e.msgid_plural or e.msgid)
            wrong += [
                f"line {e.line}: {e.msgid!r}"
                for s in e.msgstr.values()
                if placeholders(s) != expected
            ]
        expected_braces = sorted(re.findall(r"\{\w*\}", e.msgid))
        wrong += [
            f"line {e.line}: {e.msgid!r}"
            for s in e.msgstr.values()
            if sorted(re.findall(r"\{\w*\}", s)) != expected_braces
        ]
    assert not wrong, wrong


def test_the_committed_mo_is_the_compiled_po(entries):
    # Compare catalogues rather than bytes: msgfmt versions lay the file out differently.
    with MO.open("rb") as mo:
        compiled = dict(gettext.GNUTranslations(mo)._catalog)  # type: ignore[attr-defined]
    compiled.pop("", None)
    expected: dict[object, str] = {}
    for e in messages(entries):
        if e.msgid_plural:
            expected.update({(e.key, i): s for i, s in e.msgstr.items()})
        else:
            expected[e.key] = e.msgstr[0]
    assert compiled == expected, "run `make messages` (or compilemessages) and commit the .mo"


def test_role_names_are_the_chinese_titles():
    with translation.override("zh-hans"):
        labels = {role.value: str(role.label) for role in Role}
    assert labels == {
        "city_admin": "市级管理员",
        "district_staff": "区县工作人员",
        "township_staff": "乡镇街道工作人员",
        "community_staff": "村社区工作人员",
        "grid_chief": "网格长",
        "grid_worker": "网格员",
        "cadre": "下沉干部",
        "volunteer": "志愿者",
    }


def test_care_groups_in_chinese_are_the_sheet_labels():
    with translation.override("zh-hans"):
        shown = {code: str(label) for code, label in CareGroup.choices}
    assert shown == CARE_GROUP_LABELS
    with translation.override("en"):
        assert str(CareGroup.ELDERLY_ALONE.label) == "Elderly living alone"


@pytest.mark.parametrize(
    ("error", "zh", "en"),
    [
        (
            RowError(7, "身份证号", "x"),
            "第 7 行，身份证号 列：x",
            "row 7, column 身份证号: x",
        ),
        (RowError(3, None, "x"), "第 3 行：x", "row 3: x"),
        (RowError(None, None, "x"), "文件：x", "file: x"),
    ],
)
def test_census_errors_read_row_and_column_in_either_language(error, zh, en):
    with translation.override("zh-hans"):
        assert str(error) == zh
    with translation.override("en"):
        assert str(error) == en


def test_home_page_speaks_chinese_by_default_and_english_on_request(client, lu_an, grid_worker):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert client.login(username=grid_worker.username, password=PASSWORD)
    html = client.get(reverse("home")).content.decode()
    for text in ("首页", "居民", "网格", "重点人群", "退出登录", "网格员"):
        assert text in html, text
    assert "Sign out" not in html and "Residents" not in html

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("home")).content.decode()
    for text in ("Home", "Residents", "Grids", "Groups needing care", "Sign out", "Grid worker"):
        assert text in html, text
    assert "首页" not in html and "退出登录" not in html


def test_login_page_is_chinese_for_a_visitor(client, db):
    html = client.get(reverse("login")).content.decode()
    assert "登录" in html and "用户名" in html and "密码" in html
