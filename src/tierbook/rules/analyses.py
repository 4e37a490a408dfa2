"""Rulebook sections of the analyses: churn and its early warning, corporate segmentation,
membership analysis and the purchase lifecycle (SPEC §3.5–3.7, seed 004).

Every threshold the analyses use is declared here, with its default, and may be overridden
per rulebook; an absent section switches its analysis off.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EarlyWarning(_Strict):
    """Early-warning model: trained on the first ``train_months`` months of the year, each
    month's features labelled by a churn onset in the next ``horizon_months``; evaluated on
    the months after; reported as AUC and precision in the top ``top_share``."""

    model: Literal["logistic_regression"] = "logistic_regression"
    train_months: int = Field(default=9, ge=3)
    horizon_months: int = Field(default=3, ge=1)
    top_share: float = Field(default=0.05, gt=0, lt=1)
    drivers: int = Field(default=3, ge=1, description="top drivers shown per customer")
    regularization: float = Field(default=1.0, gt=0, description="inverse strength C")


class ChurnRules(_Strict):
    """Who is leaving (流失): a sustained AUM decline from the baseline, a downgrade on
    ``ladder``, the close of every AUM account, or a transfer out to other banks."""

    ladder: str = "card_tiers"
    baseline_months: int = Field(default=3, ge=1, description="first months = baseline AUM")
    min_baseline_aum: float = Field(default=50_000, ge=0, description="smaller: not followed")
    decline_pct: float = Field(default=0.5, gt=0, lt=1, description="AUM down by this share")
    sustained_months: int = Field(default=3, ge=1, description="months the decline must hold")
    transfer_out_share: float = Field(
        default=0.5, gt=0, description="other-bank outflows of a month ÷ the previous month's AUM"
    )
    reason_codes: dict[str, str] = Field(
        default_factory=lambda: {
            "rate": "收益/利率不满意 rate or yield",
            "service": "服务不满意 service",
            "competitor": "他行营销 competitor offer",
            "relocation": "迁居/迁址 relocation",
            "life_event": "资金用途/生活事件 life event",
            "other": "其他 other",
        },
        description="contact reason codes and their labels",
    )
    reason_window_days: int = Field(
        default=60, ge=0, description="a contact this long before onset or later explains it"
    )
    early_warning: EarlyWarning = Field(default_factory=EarlyWarning)

    @model_validator(mode="after")
    def _warning_fits_year(self) -> ChurnRules:
        ew = self.early_warning
        if ew.train_months + ew.horizon_months > 12:
            raise ValueError(
                f"early_warning: train_months ({ew.train_months}) + horizon_months "
                f"({ew.horizon_months}) must fit in the 12 review months"
            )
        return self


class SegmentAxes(_Strict):
    """Weights of the bank's value to the client; the client's value to the bank is its
    contribution. Attractiveness = ``bank_to_client`` × one axis + ``client_to_bank`` × the
    other (both axes are 0–1 percentile scores)."""

    share_of_wallet: float = Field(default=0.3, ge=0)
    product_coverage: float = Field(default=0.2, ge=0)
    tenure: float = Field(default=0.15, ge=0)
    activity: float = Field(default=0.15, ge=0)
    growth: float = Field(default=0.2, ge=0)
    bank_to_client: float = Field(default=0.4, ge=0)
    client_to_bank: float = Field(default=0.6, ge=0)
    tenure_cap_years: float = Field(default=10, gt=0)

    @model_validator(mode="after")
    def _some_weight(self) -> SegmentAxes:
        if (
            self.share_of_wallet
            + self.product_coverage
            + self.tenure
            + self.activity
            + (self.growth)
            <= 0
            or self.bank_to_client + self.client_to_bank <= 0
        ):
            raise ValueError("segment axis weights must not all be zero")
        return self


class CorporateSegmentation(_Strict):
    """SPEC §3.6 (seed 004, 公司机构客户细分)."""

    strategic: tuple[str, ...] = Field(default=(), description="customer ids of strategic clients")
    large_sales: float = Field(default=300_000_000, gt=0, description="annual sales, CNY (3亿)")
    large_sales_listed: float = Field(
        default=150_000_000, gt=0, description="in listed industries (1.5亿)"
    )
    medium_sales: float = Field(
        default=20_000_000, gt=0, description="medium from here (NBS 2017 industrial line 2000万)"
    )
    deposit_line: float = Field(
        default=500_000, gt=0, description="without-loan clients: daily-average deposit (50万)"
    )
    axes: SegmentAxes = Field(default_factory=SegmentAxes)

    @model_validator(mode="after")
    def _lines_ordered(self) -> CorporateSegmentation:
        if not self.medium_sales < self.large_sales_listed <= self.large_sales:
            raise ValueError(
                f"need medium_sales ({self.medium_sales:g}) < large_sales_listed "
                f"({self.large_sales_listed:g}) <= large_sales ({self.large_sales:g})"
            )
        return self


class PurchaseTypes(_Strict):
    """Purchase types after ``min_purchases`` purchases (seed 004: 新货型、促销型、批量型、
    多次型、单品型、高价型). A customer takes every type whose rule it meets."""

    min_purchases: int = Field(default=3, ge=1)
    new_arrival_share: float = Field(default=0.5, gt=0, le=1, description="新货型")
    promotion_share: float = Field(
        default=0.5, gt=0, le=1, description="促销型: share of purchases with a discount"
    )
    bulk_items: float = Field(default=3.0, gt=0, description="批量型: mean items per purchase")
    frequent_days: float = Field(
        default=30.0, gt=0, description="多次型: mean days between purchases at most"
    )
    single_item_share: float = Field(
        default=0.8, gt=0, le=1, description="单品型: share of one-item purchases"
    )
    high_price_quantile: float = Field(
        default=0.8, gt=0, lt=1, description="高价型: mean unit price above this quantile"
    )


class MembershipAnalysis(_Strict):
    """Seed 004 VIP analysis: base, new, new vs old, frequency, basket, categories,
    contribution, dead-card rate (死卡率), ABC classes, purchase types."""

    ladder: str = "membership"
    dead_after_months: int = Field(default=6, ge=1, description="no purchase this long: dead")
    abc_a_share: float = Field(default=0.7, gt=0, lt=1, description="A: top customers to 70%")
    abc_b_share: float = Field(default=0.9, gt=0, lt=1, description="B: on to 90% of sales")
    purchase_types: PurchaseTypes = Field(default_factory=PurchaseTypes)

    @model_validator(mode="after")
    def _abc_ordered(self) -> MembershipAnalysis:
        if self.abc_a_share >= self.abc_b_share:
            raise ValueError(
                f"abc_a_share ({self.abc_a_share}) must be below abc_b_share ({self.abc_b_share})"
            )
        return self


class Lifecycle(_Strict):
    """BG/NBD + Gamma-Gamma lifecycle of purchase-based books."""

    time_unit_days: float = Field(default=7.0, gt=0, description="the model's time unit")
    horizon_days: int = Field(default=365, ge=1, description="expected purchases over this")
    clv_periods: int = Field(default=12, ge=1)
    clv_period_days: float = Field(default=30.0, gt=0)
    discount_rate: float = Field(default=0.01, ge=0, description="per CLV period")
    margin: float = Field(default=0.3, gt=0, le=1, description="profit share of spend")
