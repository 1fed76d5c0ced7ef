"""Masking of personal identifiers, as Chinese public services show them."""


def mask_id_number(value: str) -> str:
    """340102199001011234 → 340102********1234 (region code and last four stay)."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def _area_code(value: str) -> str:
    """The area code of a landline written 0564-3371234 or 05643371234.

    Written without a dash it is read by the national plan: 010 and 02X are three digits
    (Beijing, and the big cities' 020–029), every other code is four.
    """
    if "-" in value:
        return value[: value.index("-") + 1]
    return value[:3] if value[1] in "12" else value[:4]


def mask_phone(value: str) -> str:
    """13812345678 → 138****5678; a landline keeps its area code and last four digits:
    0564-3371234 → 0564-***1234."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    if value.startswith("0"):
        head = _area_code(value)
        hidden = len(value) - len(head) - 4
        if hidden >= 3:
            return head + "*" * hidden + value[-4:]
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
