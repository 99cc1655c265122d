"""Checksums for identity numbers: USCC (GB 32100-2015), resident ID (GB 11643-1999),
bank card/account numbers (Luhn), and masking for display.

Only ASCII passes: Python's str.upper() and regex digits reach beyond it (fullwidth "０",
"ﬀ" upper-cases to "FF"), and such a look-alike must never be stored as a valid number."""
import re
from datetime import date

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARS[(31 - total % 31) % 31]


def _ascii_upper(value) -> str:
    value = value.strip() if isinstance(value, str) else ""
    return value.upper() if value.isascii() else ""


def is_valid_uscc(value: str | None) -> bool:
    value = _ascii_upper(value)
    return bool(_USCC_RE.fullmatch(value)) and uscc_check_char(value[:17]) == value[17]


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"[0-9]{6}(18|19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]")


def id_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS)) % 11]


def is_valid_id_number(value: str | None) -> bool:
    """Format, a real date of birth (no 30 February, none in the future) and the check character."""
    value = _ascii_upper(value)
    if not _ID_RE.fullmatch(value) or id_check_char(value[:17]) != value[17]:
        return False
    try:
        return date(int(value[6:10]), int(value[10:12]), int(value[12:14])) <= date.today()
    except ValueError:
        return False


def luhn_check_digit(digits: str) -> str:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def is_valid_bank_account(value: str | None) -> bool:
    """Bank accounts here are 12–25 digits; card-style numbers (16–19) carry a Luhn digit."""
    if not value or not value.isdigit() or not 12 <= len(value) <= 25:
        return False
    if 16 <= len(value) <= 19:
        return luhn_check_digit(value[:-1]) == value[-1]
    return True


def mask(value: str | None, head: int = 3, tail: int = 4) -> str:
    """'430621199001011234' -> '430***********1234'."""
    if not value:
        return ""
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_phone(value: str | None) -> str:
    return mask(value, 3, 4)
