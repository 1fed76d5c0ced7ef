"""Masking of personal identifiers, as Chinese public services show them."""


def mask_id_number(value: str) -> str:
    """340102199001011234 → 340102********1234 (region code and last four stay)."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """13812345678 → 138****5678; a landline keeps its area code and last four."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
