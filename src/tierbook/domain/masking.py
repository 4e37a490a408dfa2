"""Masking of personal information in lists and exports (SPEC §5). Pure functions.

Every mask keeps a fixed number of characters and hides the rest with ``*``; a value too
short to keep anything safely is hidden whole. Masks never raise on odd input: an export must
not fail, nor fall back to the raw value, because one cell is malformed.

==========  =============================================  =========================
kind        rule                                           example
==========  =============================================  =========================
``id``      first 4 and last 4 (resident ID, credit code)  ``1101**********002X``
``phone``   first 3 and last 4 of the digits               ``138****5678``
``name``    first character                                ``张**``
``address`` up to the district (区/县/旗, not 小区/社区)    ``北京市海淀区***``
            in the first 12 characters, else the first 6
``full``    everything                                     ``***``
==========  =============================================  =========================

Amounts are not masked.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Literal

MaskKind = Literal["id", "phone", "name", "address", "full"]
MASK_KINDS: tuple[MaskKind, ...] = ("id", "phone", "name", "address", "full")

STAR = "*"
HIDDEN = "***"

# The default mask of each personal column of the data contract; a personal column not
# listed here is hidden whole ("full"), so a new personal column can never leak.
DEFAULT_KINDS: Mapping[str, MaskKind] = {
    "id_number": "id",
    "credit_code": "id",
    "phone": "phone",
    "mobile": "phone",
    "name": "name",
    "customer_name": "name",
    "address": "address",
}

_PHONE_JUNK = re.compile(r"[\s\-()（）]")
_DISTRICT = re.compile(r"^.{2,11}?(?:(?<![小社园校景])区|县|旗)")  # not 小区, 社区, 园区…
_ADDRESS_KEEP = 6
MIN_HIDDEN = 4  # a mask hides at least this many characters (a mobile hides exactly 4)


def _keep_ends(value: str, head: int, tail: int) -> str:
    """Keep ``head`` leading and ``tail`` trailing characters; hide the middle. A value whose
    middle would be shorter than :data:`MIN_HIDDEN` is hidden whole."""
    n = len(value)
    if n - head - tail < MIN_HIDDEN:
        return STAR * n
    return value[:head] + STAR * (n - head - tail) + value[n - tail :]


def mask_id_number(value: str) -> str:
    """``11010519491231002X`` → ``1101**********002X``."""
    return _keep_ends(value.strip(), 4, 4)


def mask_credit_code(value: str) -> str:
    """Unified social credit codes are masked like ID numbers: first 4 and last 4."""
    return mask_id_number(value)


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``; separators and a +86/0086/86 prefix are dropped."""
    v = _PHONE_JUNK.sub("", value.strip())
    for prefix in ("+86", "0086", "86"):
        if v.startswith(prefix) and len(v) - len(prefix) == 11:
            v = v[len(prefix) :]
    return _keep_ends(v, 3, 4)


def mask_name(value: str) -> str:
    """``张三丰`` → ``张**``: the first character and a star for each other one."""
    v = value.strip()
    if len(v) <= 1:
        return STAR * len(v)
    return v[0] + STAR * (len(v) - 1)


def mask_address(value: str) -> str:
    """Keep the address up to its district: ``北京市海淀区中关村大街1号`` → ``北京市海淀区***``.
    Without a district marker in the first 12 characters the first 6 are kept; an address
    no longer than what would be kept shows at most half of itself."""
    v = value.strip()
    if not v:
        return ""
    m = _DISTRICT.match(v)
    keep = len(m.group(0)) if m else _ADDRESS_KEEP
    if keep >= len(v):
        keep = len(v) // 2
    return v[:keep] + HIDDEN


def mask_full(value: str) -> str:
    return HIDDEN if value else ""


MASKERS: Mapping[MaskKind, Callable[[str], str]] = {
    "id": mask_id_number,
    "phone": mask_phone,
    "name": mask_name,
    "address": mask_address,
    "full": mask_full,
}


def mask_value(kind: MaskKind, value: object) -> str | None:
    """Mask any cell value as text: ``None`` and NaN stay missing (``None``); a whole float
    such as ``13812345678.0`` is masked as the integer it holds."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return MASKERS[kind](str(int(value)))
    return MASKERS[kind](str(value))


def columns_to_mask(
    columns: Iterable[str],
    personal: Collection[str],
    kinds: Mapping[str, MaskKind] = DEFAULT_KINDS,
) -> dict[str, MaskKind]:
    """Which of ``columns`` to mask and how: every column in ``personal``, in column order,
    with its kind from ``kinds`` (``full`` when not listed)."""
    return {c: kinds.get(c, "full") for c in columns if c in personal}
