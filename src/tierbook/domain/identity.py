"""Identity numbers of mainland China: check digits and normalisation. Pure functions.

- Resident identity number, GB 11643-1999: 17 digits + ISO 7064 MOD 11-2 check character.
- Unified social credit code, GB 32100-2015: 17 characters + MOD 31 check character.
- Mobile number: spaces, hyphens, parentheses and a +86 / 0086 / 86 prefix stripped, then
  ``^1[3-9]\\d{9}$``.
"""

from __future__ import annotations

import re
from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_PHONE_JUNK = re.compile(r"[\s\-()（）]")


class IdentityError(ValueError):
    """A bad identity value. ``code`` is a stable error code; the message holds no raw value."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def resident_id_check_char(body17: str) -> str:
    """The check character for the first 17 digits of a resident ID."""
    if len(body17) != 17 or not body17.isdigit():
        raise IdentityError("ID_FORMAT", "resident ID body must be 17 digits")
    total = sum(int(d) * w for d, w in zip(body17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def parse_resident_id(value: str) -> tuple[date, str]:
    """Validate an 18-digit resident ID; return its birth date and gender ('M' or 'F')."""
    v = value.strip().upper()
    if not _ID_SHAPE.match(v):
        raise IdentityError("ID_FORMAT", "resident ID must be 17 digits and a digit or X")
    try:
        born = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        raise IdentityError(
            "ID_BIRTHDATE", "resident ID encodes a date that does not exist"
        ) from None
    if born.year < 1900:
        raise IdentityError("ID_BIRTHDATE", "resident ID encodes a birth year before 1900")
    if resident_id_check_char(v[:17]) != v[17]:
        raise IdentityError("ID_CHECKSUM", "resident ID check digit does not match (GB 11643-1999)")
    return born, ("M" if int(v[16]) % 2 == 1 else "F")


def uscc_check_char(body17: str) -> str:
    """The check character for the first 17 characters of a unified social credit code."""
    if len(body17) != 17 or any(c not in _USCC_ALPHABET for c in body17):
        raise IdentityError("USCC_FORMAT", "credit code body must be 17 characters of its alphabet")
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(body17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> str:
    """Validate an 18-character unified social credit code; return it upper-cased."""
    v = value.strip().upper()
    if len(v) != 18 or not _USCC_SHAPE.match(v):
        raise IdentityError("USCC_FORMAT", "credit code must be 18 characters of GB 32100-2015")
    if uscc_check_char(v[:17]) != v[17]:
        raise IdentityError(
            "USCC_CHECKSUM", "credit code check character does not match (GB 32100-2015)"
        )
    return v


def normalize_mobile(value: str) -> str:
    """Strip separators and the country prefix; return the 11-digit mobile number."""
    v = _PHONE_JUNK.sub("", value.strip())
    for prefix in ("+86", "0086", "86"):
        if v.startswith(prefix) and len(v) - len(prefix) == 11:
            v = v[len(prefix) :]
            break
    if not _MOBILE.match(v):
        raise IdentityError("MOBILE_FORMAT", "mobile number must be 11 digits starting 13–19")
    return v
