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
    # Login-only roles of the workbench (issue 3): they maintain no customers.
    HEAD_OFFICE_ANALYST = "head_office_analyst"  # 总行/分行 个金部分析岗: reads, defines rules
    ADMIN = "admin"  # system administrator: users and sessions, no customer data


LOGIN_ONLY_ROLES: frozenset[Role] = frozenset({Role.HEAD_OFFICE_ANALYST, Role.ADMIN})
STAFF_ROLES: tuple[Role, ...] = tuple(r for r in Role if r not in LOGIN_ONLY_ROLES)
"""Roles a staff file may name: those who maintain customers."""


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


class EventKind(StrEnum):
    """Customer events of seed 004 (日常维护服务细则)."""

    SALON = "salon"  # 小型理财沙龙或答谢活动, monthly, about 15 invited
    SEMINAR = "seminar"  # 大型投资理财分析报告会, half-yearly, about 100
    VIP_DINNER = "vip_dinner"  # VIP答谢宴会或郊游, twice a year, assets 100万+


class EventRule(_Strict):
    """Who is invited to one kind of event: customers with AUM in [min_aum, max_aum), best
    fit first (shared interests, then AUM); ``invitees`` caps the list (``None``: all)."""

    invitees: int | None = Field(default=None, ge=1)
    min_aum: float = Field(ge=0)
    max_aum: float | None = Field(default=None, gt=0)
    per_year: int = Field(ge=1, description="how many the personal-banking dept holds a year")
    follow_up_days: int = Field(default=3, ge=0, description="follow-up contact after it")

    @model_validator(mode="after")
    def _range(self) -> EventRule:
        if self.max_aum is not None and self.max_aum <= self.min_aum:
            raise ValueError(f"max_aum ({self.max_aum:g}) must exceed min_aum ({self.min_aum:g})")
        return self


def _default_events() -> dict[EventKind, EventRule]:
    return {
        EventKind.SALON: EventRule(invitees=15, min_aum=200_000, per_year=12),
        EventKind.SEMINAR: EventRule(invitees=100, min_aum=200_000, per_year=2),
        EventKind.VIP_DINNER: EventRule(min_aum=1_000_000, per_year=2),
    }


class Severity(StrEnum):
    """Complaint severity, A the most serious."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


ResponseHours = dict[Severity, int]


class ComplaintDeadlines(_Strict):
    """Hours to respond to a complaint by its severity; ``by_level`` gives faster tables from
    a level of ``ladder`` upwards (a customer uses the table of the highest listed level at
    or below its own, else ``hours``). Overdue complaints surface to ``escalate_to``."""

    ladder: str = "card_tiers"
    hours: ResponseHours
    by_level: dict[str, ResponseHours] = Field(default_factory=dict)
    escalate_to: Role = Role.RM_SUPERVISOR

    @field_validator("hours")
    @classmethod
    def _hours_complete(cls, table: ResponseHours) -> ResponseHours:
        _check_response_hours("hours", table)
        return table

    @field_validator("by_level")
    @classmethod
    def _levels_complete(cls, tables: dict[str, ResponseHours]) -> dict[str, ResponseHours]:
        for name, table in tables.items():
            _check_response_hours(name, table)
        return tables


def _check_response_hours(name: str, table: ResponseHours) -> None:
    missing = [s.value for s in Severity if s not in table]
    if missing:
        raise ValueError(f"{name}: no response hours for severity {', '.join(missing)}")
    order = [table[s] for s in Severity]
    if any(h <= 0 for h in order) or order != sorted(order):
        raise ValueError(
            f"{name}: response hours must be positive and not shorter for a less serious "
            f"severity (A ≤ B ≤ C ≤ D); got {order}"
        )


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
    events: dict[EventKind, EventRule] = Field(default_factory=_default_events)
    complaints: ComplaintDeadlines | None = None


# Sections in their own modules import the enums above, so they are imported here.
from tierbook.rules.value import KeyCustomerRules  # noqa: E402


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
    key_customers: KeyCustomerRules | None = None
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
            if m.complaints is not None:
                self._complaint_levels_resolve(m.complaints, ids)
            band = self.ladder(m.band_ladder)
            if not isinstance(band.measure, AumMeasure):
                raise ValueError("maintenance.band_ladder must be measured on weighted AUM")
        kc = self.key_customers
        if kc is not None:
            if kc.ladder not in ids:
                raise ValueError(
                    f"key_customers.ladder: unknown ladder {kc.ladder!r}; known: {', '.join(ids)}"
                )
            if not isinstance(self.ladder(kc.ladder).measure, AumMeasure):
                raise ValueError("key_customers.ladder must be measured on weighted AUM")
        for field, ref in (
            ("churn.ladder", self.churn.ladder if self.churn else None),
            ("membership.ladder", self.membership.ladder if self.membership else None),
        ):
            if ref is not None and ref not in ids:
                raise ValueError(f"{field}: unknown ladder {ref!r}; known: {', '.join(ids)}")
        return self

    def _complaint_levels_resolve(self, c: ComplaintDeadlines, ids: list[str]) -> None:
        if c.ladder not in ids:
            raise ValueError(
                f"maintenance.complaints.ladder: unknown ladder {c.ladder!r}; known: "
                f"{', '.join(ids)}"
            )
        names = self.ladder(c.ladder).level_names()
        unknown = [n for n in c.by_level if n not in names]
        if unknown:
            raise ValueError(
                f"maintenance.complaints.by_level: unknown level {', '.join(unknown)} of "
                f"{c.ladder}; known: {', '.join(names)}"
            )
        listed = sorted(c.by_level, key=names.index)
        tables = [c.hours, *(c.by_level[n] for n in listed)]
        for (lo_name, lo), (hi_name, hi) in itertools.pairwise(
            zip(["default", *listed], tables, strict=True)
        ):
            slower = [s.value for s in Severity if hi[s] > lo[s]]
            if slower:
                raise ValueError(
                    f"maintenance.complaints.by_level.{hi_name}: a higher tier must not wait "
                    f"longer than {lo_name} (severity {', '.join(slower)})"
                )

    def ladder(self, ladder_id: str) -> Ladder:
        for lad in self.ladders:
            if lad.id == ladder_id:
                return lad
        raise KeyError(ladder_id)

    def aum_ladders(self) -> tuple[Ladder, ...]:
        return tuple(lad for lad in self.ladders if isinstance(lad.measure, AumMeasure))
