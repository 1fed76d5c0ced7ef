"""Resident identity numbers (GB 11643-1999, 公民身份号码).

18 characters: a 6-digit address code, an 8-digit birth date, a 3-digit sequence whose
last digit is odd for men and even for women, and an ISO 7064 MOD 11-2 check character.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from operator import mul

from django.utils.translation import gettext as _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")

MALE = "M"
FEMALE = "F"


class InvalidIdNumber(ValueError):
    """`kind` groups the refusals for a summary: "format", "checksum" or "birth date"."""

    def __init__(self, message: str, kind: str = "format") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class IdInfo:
    number: str
    birth_date: dt.date
    sex: str  # MALE or FEMALE


def check_character(first17: str) -> str:
    return _CHECK[sum(map(mul, map(int, first17), _WEIGHTS)) % 11]


def parse_id_number(value: str, *, today: dt.date | None = None) -> IdInfo:
    """Validate and decode; raises InvalidIdNumber with a message for the user."""
    number = value.strip().upper()
    if not _SHAPE.match(number):
        raise InvalidIdNumber(_("must be 17 digits followed by a digit or X"))
    if check_character(number[:17]) != number[17]:
        raise InvalidIdNumber(_("check digit is wrong (GB 11643 checksum)"), "checksum")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber(
            _("birth date %(date)s does not exist") % {"date": number[6:14]}, "birth date"
        ) from None
    today = today or dt.date.today()
    # Nobody alive is older than about 120; 130 leaves a margin for typing errors in
    # records of the very old without admitting a century-old slip of the pen.
    if birth > today or today.year - birth.year > 130:
        raise InvalidIdNumber(
            _("birth date %(date)s is impossible") % {"date": number[6:14]}, "birth date"
        )
    sex = MALE if int(number[16]) % 2 else FEMALE
    return IdInfo(number=number, birth_date=birth, sex=sex)


def make_id_number(area: str, birth: dt.date, sequence: int, sex: str) -> str:
    """A valid number, for the demo city and the tests."""
    seq = sequence % 1000
    if (seq % 2 == 1) != (sex == MALE):
        seq = (seq + 1) % 1000
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + check_character(first17)
