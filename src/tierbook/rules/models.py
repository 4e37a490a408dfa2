"""Typed rulebook: the pydantic models every rule of tierbook is declared with.

A rulebook is YAML validated by these models and parsed once into typed objects. Nothing in
the engine reads a raw dict. Validation messages name the YAML path and the reason, e.g.
``ladders.card_tiers.levels[2].min: threshold of 白金 (300000) must exceed 金卡 (300000)``.
"""

from __future__ import annotations

import itertools
from enum import StrEnum
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tierbook.rules.analyses import ChurnRules, CorporateSegmentation, Lifecycle, MembershipAnalysis


class AssetClass(StrEnum):
    """Product types of the data contract. Every class but ``loan`` counts towards AUM."""

    DEMAND_DEPOSIT = "demand_deposit"
    TIME_DEPOSIT = "time_deposit"
    WEALTH_MANAGEMENT = "wealth_management"
    FUND = "fund"
    INSURANCE = "insurance"
    PRECIOUS_METAL = "precious_metal"
    LOAN = "loan"


AUM_CLASSES: tuple[AssetClass, ...] = tuple(c for c in AssetClass if c is not AssetClass.LOAN)


class Role(StrEnum):
    """Staff roles of SPEC §3.3 (seed 004, 客户分层维护的具体实施)."""

    TELLER = "teller"  # 网点高柜柜员
    VIP_TELLER = "vip_teller"  # 低柜、VIP柜台柜员
    LOBBY_MANAGER = "lobby_manager"  # 大堂经理
    RM = "rm"  # 客户经理
    RM_SUPERVISOR = "rm_supervisor"  # 客户经理主管
    BRANCH_MANAGER = "branch_manager"  # 网点负责人
    PERSONAL_BANKING = "personal_banking"  # 个人银行金融部 (head office, not tied to one branch)


class Period(StrEnum):
    """Averaging periods of the 年日均 family (SPEC §3.1)."""

    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    ROLLING_365 = "rolling_365"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(_Strict):
    """One rung of a ladder. ``min`` is inclusive: a measure equal to it reaches the level."""

    name: str = Field(min_length=1)
    min: float = Field(ge=0, description="qualifying threshold of the ladder's measure, CNY")
    keep_min: float | None = Field(
        default=None, ge=0, description="annual amount that keeps the level (annual policy)"
    )
    single_purchase: float | None = Field(
        default=None, gt=0, description="one purchase of at least this qualifies (membership)"
    )
    roles: tuple[Role, ...] = Field(
        default=(), description="staff roles responsible for customers of this level"
    )
    maintained: bool = Field(default=True, description="False: not maintained individually")


class AumMeasure(_Strict):
    """Weighted AUM daily average over a period ending at each review date."""

    kind: Literal["weighted_aum"] = "weighted_aum"
    period: Period = Period.MONTH


class PurchaseMeasure(_Strict):
    """Cumulative purchases to date; a level may also be reached by one large purchase."""

    kind: Literal["purchases"] = "purchases"


Measure = Annotated[AumMeasure | PurchaseMeasure, Field(discriminator="kind")]


class ImmediatePolicy(_Strict):
    """The level is whatever this period's measure reaches, up or down."""

    kind: Literal["immediate"] = "immediate"


class SlowDownPolicy(_Strict):
    """Fast up, slow down: up at once; after ``watch_after`` consecutive periods below the
    current level's minimum the customer is on watch; after ``drop_after`` more it drops to
    the best level its measure reached in the last ``lookback`` periods."""

    kind: Literal["fast_up_slow_down"] = "fast_up_slow_down"
    watch_after: int = Field(default=3, ge=1)
    drop_after: int = Field(default=3, ge=1)
    lookback: int = Field(default=6, ge=1)


class AnnualKeepPolicy(_Strict):
    """Up as soon as a level's qualifying rule is met; at each anniversary of the review year
    the level is kept only if that year's amount reaches its ``keep_min``, else it falls to the
    highest level whose ``keep_min`` the year's amount meets."""

    kind: Literal["annual_keep_minimum"] = "annual_keep_minimum"
    review_months: int = Field(default=12, ge=1)


Policy = Annotated[ImmediatePolicy | SlowDownPolicy | AnnualKeepPolicy, Field(discriminator="kind")]


class Ladder(_Strict):
    """An ordered set of levels on one measure, with an upgrade/downgrade policy."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    measure: Measure = Field(default_factory=AumMeasure)
    policy: Policy = Field(default_factory=ImmediatePolicy)
    levels: tuple[Level, ...] = Field(min_length=2)

    @field_validator("levels")
    @classmethod
    def _levels_increase(cls, levels: tuple[Level, ...]) -> tuple[Level, ...]:
        if levels[0].min != 0:
            raise ValueError(
                f"the first level ({levels[0].name}) must start at 0 so every customer has a "
                f"level, not at {levels[0].min:g}"
            )
        names = [lv.name for lv in levels]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"level names must be unique; repeated: {', '.join(dup)}")
        for prev, cur in itertools.pairwise(levels):
            if cur.min <= prev.min:
                raise ValueError(
                    f"threshold of {cur.name} ({cur.min:g}) must exceed {prev.name} "
                    f"({prev.min:g}); levels overlap"
                )
        return levels

    @model_validator(mode="after")
    def _policy_fits_measure(self) -> Ladder:
        if isinstance(self.measure, AumMeasure) and self.measure.period == Period.ROLLING_365:
            raise ValueError(
                "measure.period rolling_365 is reported at the as-of date but cannot drive a "
                "monthly review; use month, quarter or year"
            )
        purchase = isinstance(self.measure, PurchaseMeasure)
        if isinstance(self.policy, AnnualKeepPolicy) != purchase:
            raise ValueError(
                "policy annual_keep_minimum goes with measure purchases and only with it"
            )
        if purchase:
            missing = [lv.name for lv in self.levels[1:] if lv.keep_min is None]
            if missing:
                raise ValueError(f"keep_min is required for levels {', '.join(missing)}")
        return self

    def level_names(self) -> tuple[str, ...]:
        return tuple(lv.name for lv in self.levels)

    def thresholds(self) -> tuple[float, ...]:
        return tuple(lv.min for lv in self.levels)


class MonthlyContact(_Strict):
    min_aum: float = Field(default=200_000, ge=0)
    every_days: int = Field(default=30, ge=1)
    roles: tuple[Role, ...] = (Role.RM,)


class BirthdayVisit(_Strict):
    min_aum: float = Field(default=1_000_000, ge=0)
    max_aum: float | None = Field(default=3_000_000, ge=0)
    days_before: int = Field(default=7, ge=0)
    roles: tuple[Role, ...] = (Role.RM_SUPERVISOR, Role.RM)


Festival = Literal[
    "new_year", "spring_festival", "lantern", "dragon_boat", "mid_autumn", "national_day"
]


class FestivalGreeting(_Strict):
    festivals: tuple[Festival, ...] = get_args(Festival)
    min_aum: float = Field(default=200_000, ge=0, description="contacted customers")
    roles: tuple[Role, ...] = (Role.RM,)
    head_office_min_aum: float = Field(default=3_000_000, ge=0)
    head_office_role: Role = Role.PERSONAL_BANKING
    days_before: int = Field(default=1, ge=0)


class MaturityFollowUp(_Strict):
    within_days: int = Field(default=30, ge=1)
    min_balance: float = Field(default=10_000, ge=0)
    roles: tuple[Role, ...] = (Role.RM,)


class LargeFlow(_Strict):
    min_aum: float = Field(default=100_000, ge=0)
    outflow_min: float = Field(default=50_000, gt=0, description="single-day outflow, CNY")
    inflow_min: float = Field(default=100_000, gt=0, description="single-day inflow, CNY")
    lookback_days: int = Field(default=7, ge=1)
    roles: tuple[Role, ...] = (Role.RM,)


class UpgradeReferral(_Strict):
    ladder: str = "card_tiers"
    within_pct: float = Field(default=0.10, gt=0, lt=1)
    rising_periods: int = Field(default=2, ge=1)
    roles: tuple[Role, ...] = (Role.VIP_TELLER,)
    refer_to: Role = Role.RM


class DataCollection(_Strict):
    """Tellers collect profile data of 5万+ customers; the VIP counter of 10–20万 customers."""

    teller_min_aum: float = Field(default=50_000, ge=0)
    vip_min_aum: float = Field(default=100_000, ge=0)
    vip_max_aum: float = Field(default=200_000, ge=0)
    fields: tuple[str, ...] = ("birth_date", "address", "phone")
    teller_role: Role = Role.TELLER
    vip_role: Role = Role.VIP_TELLER


class BirthdayList(_Strict):
    min_aum: float = Field(default=200_000, ge=0)
    role: Role = Field(default=Role.BRANCH_MANAGER, description="publishes the list at month end")


class Maintenance(_Strict):
    """Maintenance policy of SPEC §3.4: who maintains whom, and what tasks are due."""

    band_ladder: str = "branch_bands"
    horizon_days: int = Field(default=30, ge=1)
    monthly_contact: MonthlyContact = Field(default_factory=MonthlyContact)
    birthday_visit: BirthdayVisit = Field(default_factory=BirthdayVisit)
    festival_greeting: FestivalGreeting = Field(default_factory=FestivalGreeting)
    maturity: MaturityFollowUp = Field(default_factory=MaturityFollowUp)
    large_flow: LargeFlow = Field(default_factory=LargeFlow)
    upgrade_referral: UpgradeReferral = Field(default_factory=UpgradeReferral)
    data_collection: DataCollection = Field(default_factory=DataCollection)
    birthday_list: BirthdayList = Field(default_factory=BirthdayList)


def _default_weights() -> dict[AssetClass, float]:
    return {
        c: (1.0 if c in (AssetClass.DEMAND_DEPOSIT, AssetClass.TIME_DEPOSIT) else 0.5)
        for c in AUM_CLASSES
    }


class Rulebook(_Strict):
    """A versioned rulebook: asset weights, ladders and the maintenance policy."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_\-]*$")
    version: str = Field(min_length=1)
    title: str = ""
    asset_weights: dict[AssetClass, float] = Field(default_factory=_default_weights)
    ladders: tuple[Ladder, ...] = Field(min_length=1)
    maintenance: Maintenance | None = None
    churn: ChurnRules | None = None
    corporate_segments: CorporateSegmentation | None = None
    membership: MembershipAnalysis | None = None
    lifecycle: Lifecycle | None = None

    @field_validator("asset_weights")
    @classmethod
    def _weights_valid(cls, w: dict[AssetClass, float]) -> dict[AssetClass, float]:
        if AssetClass.LOAN in w:
            raise ValueError("loan is not AUM and takes no weight (SPEC §3.1)")
        bad = {k.value: v for k, v in w.items() if not 0 <= v <= 1}
        if bad:
            raise ValueError(f"weights must lie in [0, 1]; got {bad}")
        return {**_default_weights(), **w}

    @model_validator(mode="after")
    def _references_resolve(self) -> Rulebook:
        ids = [lad.id for lad in self.ladders]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"ladder ids must be unique; repeated: {', '.join(dup)}")
        m = self.maintenance
        if m is not None:
            for field, ladder_id in (
                ("maintenance.band_ladder", m.band_ladder),
                ("maintenance.upgrade_referral.ladder", m.upgrade_referral.ladder),
            ):
                if ladder_id not in ids:
                    raise ValueError(
                        f"{field}: unknown ladder {ladder_id!r}; known: {', '.join(ids)}"
                    )
            band = self.ladder(m.band_ladder)
            if not isinstance(band.measure, AumMeasure):
                raise ValueError("maintenance.band_ladder must be measured on weighted AUM")
        for field, ref in (
            ("churn.ladder", self.churn.ladder if self.churn else None),
            ("membership.ladder", self.membership.ladder if self.membership else None),
        ):
            if ref is not None and ref not in ids:
                raise ValueError(f"{field}: unknown ladder {ref!r}; known: {', '.join(ids)}")
        return self

    def ladder(self, ladder_id: str) -> Ladder:
        for lad in self.ladders:
            if lad.id == ladder_id:
                return lad
        raise KeyError(ladder_id)

    def aum_ladders(self) -> tuple[Ladder, ...]:
        return tuple(lad for lad in self.ladders if isinstance(lad.measure, AumMeasure))
