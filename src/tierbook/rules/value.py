"""Rulebook section ``key_customers``: value score, key-customer rule, key-account types,
cross-sell, fake-big detectors and concentration (SPEC §3.5, seeds 000–003).

Every threshold the value step uses is declared here; the YAML presets state them. Amounts
are CNY over the twelve months ending at the as-of date; shares and percentiles are in
[0, 1].
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tierbook.rules.models import AssetClass, Role

SCORE_PARTS: tuple[str, ...] = (
    "profit",
    "frequency",
    "product_depth",
    "tenure",
    "referral",
    "stability",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScoreWeights(_Strict):
    """Points of each part out of 100; they must add up to 1."""

    profit: float = Field(default=0.35, ge=0, le=1)
    frequency: float = Field(default=0.15, ge=0, le=1)
    product_depth: float = Field(default=0.15, ge=0, le=1)
    tenure: float = Field(default=0.10, ge=0, le=1)
    referral: float = Field(default=0.10, ge=0, le=1)
    stability: float = Field(default=0.15, ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> ScoreWeights:
        total = sum(self.as_dict().values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"score weights must add up to 1; they add up to {total:g}")
        return self

    def as_dict(self) -> dict[str, float]:
        return {p: float(getattr(self, p)) for p in SCORE_PARTS}


class ValueScore(_Strict):
    """How each part of the value score is scaled to [0, 1].

    profit and frequency: percentile rank among all customers; product depth: product types
    held ÷ ``product_depth_full``; tenure: years ÷ ``tenure_full_years``; referral: profit of
    the customers brought in (generation g weighted ``referral_decay ** (g-1)``, up to
    ``referral_depth`` generations) ÷ ``referral_full``; stability: 1 − coefficient of
    variation of the monthly AUM averages ÷ ``stability_cv_full``. Each is capped at 1.
    """

    weights: ScoreWeights = Field(default_factory=ScoreWeights)
    product_depth_full: int = Field(default=4, ge=1)
    tenure_full_years: float = Field(default=10.0, gt=0)
    referral_full: float = Field(default=5_000.0, gt=0)
    referral_decay: float = Field(default=0.5, ge=0, le=1)
    referral_depth: int = Field(default=3, ge=1)
    stability_cv_full: float = Field(default=1.0, gt=0)


class KeyCustomerSelection(_Strict):
    """Key customers: the top ``top_share`` by value score whose profit is at least
    ``min_profit``; with ``exclude_flagged`` a customer flagged by a fake-big detector is
    never a key customer."""

    top_share: float = Field(default=0.2, gt=0, le=1)
    min_profit: float = Field(default=1_000.0, description="annual profit floor, CNY")
    exclude_flagged: bool = True


class AccountTypes(_Strict):
    """Key-account types of corporates and institutions (seed 001): strategic-value
    (partnership) when the relationship is broad, long and includes credit; extrinsic-value
    (advisory) when it holds advisory products; otherwise intrinsic-value (transactional)."""

    advisory_products: tuple[AssetClass, ...] = (
        AssetClass.WEALTH_MANAGEMENT,
        AssetClass.FUND,
        AssetClass.INSURANCE,
        AssetClass.PRECIOUS_METAL,
    )
    extrinsic_min_advisory: int = Field(default=1, ge=1)
    strategic_min_product_types: int = Field(default=4, ge=1)
    strategic_min_tenure_years: float = Field(default=5.0, ge=0)
    strategic_requires_loan: bool = True
    strategic_min_referrals: int = Field(default=0, ge=0)

    @field_validator("advisory_products")
    @classmethod
    def _not_empty(cls, v: tuple[AssetClass, ...]) -> tuple[AssetClass, ...]:
        if not v:
            raise ValueError("name at least one advisory product type")
        return v


class CrossSell(_Strict):
    """Next best product (seed 003): product types held by at least ``min_peer_share`` of
    the key customer's tier peers that it does not hold; the ``max_products`` most common
    become tasks for ``roles``, due ``due_days`` after the as-of date."""

    min_peer_share: float = Field(default=0.5, gt=0, le=1)
    max_products: int = Field(default=2, ge=1)
    due_days: int = Field(default=14, ge=0)
    roles: tuple[Role, ...] = (Role.RM,)


class BulkDetector(_Strict):
    """One-off bulk and period-end window dressing (seeds 000–002).

    A spike is a weighted-AUM peak of at least ``min_peak_ratio`` × 年日均 that lifts the
    balance into a higher tier of the ladder than the 年日均 reaches, held at or above that
    tier's threshold for at most ``max_days_above`` days in all (repeated parking counts every
    day), ``min_excess`` above 年日均, come and gone within the window (the balances on its
    first day and at the as-of date both below ``max_end_share`` × the peak). 年日均 here is
    taken over the days since the customer's first balance in the window, so a customer who
    joined during the year is not compared with the days before it joined. It is window
    dressing when a measurement date (month end) falls inside it with a balance of at least
    ``min_period_end_ratio`` × 年日均 and the money came and went around that date: inflow
    in the ``days_before`` days up to it and outflow in the ``days_after`` days after it
    both at least ``min_round_trip_share`` of the excess; otherwise a one-off bulk."""

    measurement: Literal["month_end", "quarter_end"] = "month_end"
    min_peak_ratio: float = Field(default=5.0, gt=1)
    max_days_above: int = Field(default=60, ge=1)
    min_excess: float = Field(default=200_000.0, ge=0)
    max_end_share: float = Field(default=0.5, gt=0, le=1)
    min_period_end_ratio: float = Field(default=2.0, gt=1)
    days_before: int = Field(default=5, ge=1)
    days_after: int = Field(default=3, ge=1)
    min_round_trip_share: float = Field(default=0.5, ge=0, le=1)


class HighVolumeLowProfit(_Strict):
    """Volume (turnover with other parties) in the top ``1 − min_volume_pct``, margin (profit
    per CNY of turnover) in the bottom ``max_margin_pct``, and profit at most
    ``max_profit_rate`` of the gross contribution (net interest + fees)."""

    min_volume_pct: float = Field(default=0.95, gt=0, lt=1)
    max_margin_pct: float = Field(default=0.2, gt=0, lt=1)
    max_profit_rate: float = Field(default=0.2, le=1)


class PeelerDetector(_Strict):
    """扒皮大户: concessions (fee waivers + rate premium) exceed ``min_ratio`` × the gross
    contribution (net interest + fees), and are at least ``min_concessions`` CNY."""

    min_ratio: float = Field(default=1.0, gt=0)
    min_concessions: float = Field(default=1_000.0, ge=0)


class Detectors(_Strict):
    bulk: BulkDetector = Field(default_factory=BulkDetector)
    high_volume_low_profit: HighVolumeLowProfit = Field(default_factory=HighVolumeLowProfit)
    peeler: PeelerDetector = Field(default_factory=PeelerDetector)


class Split(_Strict):
    """The 20/60/20 split by profit rank: the top ``top`` share is valuable, the bottom
    ``bottom`` share costs more than it brings, the rest is break-even to keep."""

    top: float = Field(default=0.2, gt=0, lt=1)
    bottom: float = Field(default=0.2, gt=0, lt=1)

    @model_validator(mode="after")
    def _fits(self) -> Split:
        if self.top + self.bottom >= 1:
            raise ValueError(
                f"top ({self.top:g}) + bottom ({self.bottom:g}) must leave a middle group"
            )
        return self


class Concentration(_Strict):
    top_share: float = Field(default=0.2, gt=0, lt=1, description="Pareto: share of customers")
    split: Split = Field(default_factory=Split)


class KeyCustomerRules(_Strict):
    """The ``key_customers`` section of a rulebook."""

    ladder: str = Field(
        default="card_tiers", description="tiers for the bulk detector and cross-sell peers"
    )
    score: ValueScore = Field(default_factory=ValueScore)
    select: KeyCustomerSelection = Field(default_factory=KeyCustomerSelection)
    account_types: AccountTypes = Field(default_factory=AccountTypes)
    cross_sell: CrossSell = Field(default_factory=CrossSell)
    detectors: Detectors = Field(default_factory=Detectors)
    concentration: Concentration = Field(default_factory=Concentration)
