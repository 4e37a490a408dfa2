"""Corporate and institutional segmentation (SPEC §3.6, seed 004 公司机构客户细分). Pure.

Every client is placed on four axes: with or without loan (有贷户/无贷户); corporate or
institutional (公司/机构); for corporates the sector — traditional, emerging (internet, IoT,
mobile payment), real estate; for traditional corporates the layer — strategic (a named
list), large (annual sales ≥ 3亿, or ≥ 1.5亿 in a listed industry), medium, small; and for
clients without loan the deposit band — at or above, or below, 50万 daily-average deposit.
All lines come from the rulebook; a line is inclusive (exactly 3亿 is large).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tierbook.rules.analyses import CorporateSegmentation, SegmentAxes

SECTOR_LABELS = {
    "traditional": "传统",
    "emerging": "新兴",
    "real_estate": "房地产",
}
SIZE_LABELS = {"strategic": "战略", "large": "大型", "medium": "中型", "small": "小型",
               "unknown": "规模未知"}  # fmt: skip


@dataclass(frozen=True)
class Client:
    customer_id: str
    kind: str  # corporate | institution
    sector: str | None
    annual_sales: float | None
    listed_industry: bool | None
    has_loan: bool
    deposit_avg: float  # daily-average deposit over the year


@dataclass(frozen=True)
class Segment:
    loan: str  # with_loan | without_loan
    kind: str  # corporate | institution
    sector: str | None  # traditional | emerging | real_estate | unclassified; None: institution
    size: str | None  # strategic | large | medium | small | unknown; traditional only
    deposit_band: str | None  # above | below; without-loan clients only

    def label(self, deposit_line: float) -> str:
        parts = ["有贷" if self.loan == "with_loan" else "无贷"]
        parts.append("公司" if self.kind == "corporate" else "机构")
        if self.sector is not None:
            parts.append(SECTOR_LABELS.get(self.sector, "未分类"))
        if self.size is not None:
            parts.append(SIZE_LABELS[self.size])
        if self.deposit_band is not None:
            sign = "≥" if self.deposit_band == "above" else "<"
            parts.append(f"日均{sign}{deposit_line / 1e4:g}万")
        return "/".join(parts)


def size_layer(c: Client, rules: CorporateSegmentation) -> str:
    """Strategic, large, medium or small by the named list and annual sales."""
    if c.customer_id in rules.strategic:
        return "strategic"
    if c.annual_sales is None:
        return "unknown"
    line = rules.large_sales_listed if c.listed_industry else rules.large_sales
    if c.annual_sales >= line:
        return "large"
    if c.annual_sales >= rules.medium_sales:
        return "medium"
    return "small"


def segment_of(c: Client, rules: CorporateSegmentation) -> Segment:
    loan = "with_loan" if c.has_loan else "without_loan"
    band = None
    if not c.has_loan:
        band = "above" if c.deposit_avg >= rules.deposit_line else "below"
    if c.kind != "corporate":
        return Segment(loan, "institution", None, None, band)
    sector = c.sector if c.sector in SECTOR_LABELS else "unclassified"
    size = size_layer(c, rules) if sector == "traditional" else None
    return Segment(loan, "corporate", sector, size, band)


def bank_value_to_client(scores: Mapping[str, float], axes: SegmentAxes) -> float:
    """Weighted mean of the 0–1 scores of share of wallet, product coverage, tenure,
    activity and growth."""
    weights = {
        "share_of_wallet": axes.share_of_wallet,
        "product_coverage": axes.product_coverage,
        "tenure": axes.tenure,
        "activity": axes.activity,
        "growth": axes.growth,
    }
    total = sum(weights.values())
    return sum(w * scores[k] for k, w in weights.items()) / total


def attractiveness(bank_to_client: float, client_to_bank: float, axes: SegmentAxes) -> float:
    w = axes.bank_to_client + axes.client_to_bank
    return (axes.bank_to_client * bank_to_client + axes.client_to_bank * client_to_bank) / w


def percentile_scores(values: Sequence[float]) -> list[float]:
    """Mid-rank percentiles in [0, 1]: ties share a score; one value scores 0.5."""
    n = len(values)
    if n == 0:
        return []
    order = sorted(range(n), key=lambda i: values[i])
    out = [0.0] * n
    i = 0
    while i < n:
        j = i
        while j + 1 < n and values[order[j + 1]] == values[order[i]]:
            j += 1
        mid = (i + j) / 2
        for k in range(i, j + 1):
            out[order[k]] = mid / (n - 1) if n > 1 else 0.5
        i = j + 1
    return out


def quadrant(
    bank_to_client: float, client_to_bank: float, split_bank: float, split_client: float
) -> str:
    """Where a segment sits on the two axes, split at the given lines (the median segment)."""
    hi_b, hi_c = bank_to_client >= split_bank, client_to_bank >= split_client
    if hi_b and hi_c:
        return "core 核心: deepen"
    if hi_c:
        return "under-served 价值高/服务浅: expand products"
    if hi_b:
        return "over-served 服务深/贡献低: reprice"
    return "marginal 边缘: maintain at low cost"
