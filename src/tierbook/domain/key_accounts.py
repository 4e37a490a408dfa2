"""Key-account types (seed 001) and next best products (seed 003). Pure.

Types, for corporates and institutions: *strategic-value* (partnership) when the
relationship is broad (``strategic_min_product_types``), long (``strategic_min_tenure_years``),
includes credit (``strategic_requires_loan``) and brought in customers
(``strategic_min_referrals``); else *extrinsic-value* (advisory) when it holds at least
``extrinsic_min_advisory`` advisory product types; else *intrinsic-value* (transactional).

Next best products: for each candidate, the product types held by at least
``min_peer_share`` of the other customers of its tier that it does not hold, most common
first, at most ``max_products``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tierbook.rules.models import AssetClass
from tierbook.rules.value import AccountTypes, CrossSell

Vec = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
Held = npt.NDArray[np.bool_]  # customers × product types, in ``PRODUCTS`` order

PRODUCTS: tuple[AssetClass, ...] = tuple(AssetClass)
STRATEGIC, EXTRINSIC, INTRINSIC = "strategic_value", "extrinsic_value", "intrinsic_value"


def account_types(
    held: Held, tenure_years: Vec, referrals: Vec, organisation: Mask, rule: AccountTypes
) -> tuple[list[str], list[str]]:
    """Type and reason per customer; individuals get "" for both."""
    types = held.sum(axis=1)
    advisory = held[:, [PRODUCTS.index(p) for p in rule.advisory_products]].sum(axis=1)
    loan = held[:, PRODUCTS.index(AssetClass.LOAN)]
    strategic = (
        (types >= rule.strategic_min_product_types)
        & (tenure_years >= rule.strategic_min_tenure_years)
        & (loan | (not rule.strategic_requires_loan))
        & (referrals >= rule.strategic_min_referrals)
    )
    extrinsic = advisory >= rule.extrinsic_min_advisory
    kinds: list[str] = []
    reasons: list[str] = []
    for i in range(len(types)):
        if not organisation[i]:
            kinds.append("")
            reasons.append("")
        elif strategic[i]:
            kinds.append(STRATEGIC)
            reasons.append(
                f"{int(types[i])} product types, {tenure_years[i]:.1f} years"
                + (", with credit" if loan[i] else "")
            )
        elif extrinsic[i]:
            kinds.append(EXTRINSIC)
            reasons.append(f"{int(advisory[i])} advisory product types")
        else:
            kinds.append(INTRINSIC)
            reasons.append(f"{int(types[i])} product types, none advisory")
    return kinds, reasons


@dataclass(frozen=True)
class Suggestion:
    row: int  # customer position
    product: AssetClass
    peer_share: float  # share of the tier's other customers holding it
    peers: int  # the tier's other customers


def next_best_products(
    held: Held, tier: list[str], candidates: Mask, rule: CrossSell
) -> list[Suggestion]:
    tiers = np.asarray(tier, dtype=object)
    out: list[Suggestion] = []
    for name in sorted(set(tiers[candidates].tolist())):
        members = tiers == name
        counts = held[members].sum(axis=0).astype(float)
        size = int(members.sum())
        if size < 2:
            continue
        for row in np.flatnonzero(members & candidates).tolist():
            share = (counts - held[row]) / (size - 1)
            options = [
                (float(share[k]), k)
                for k in range(len(PRODUCTS))
                if not held[row, k] and share[k] >= rule.min_peer_share
            ]
            options.sort(key=lambda x: (-x[0], x[1]))
            out += [
                Suggestion(row, PRODUCTS[k], s, size - 1) for s, k in options[: rule.max_products]
            ]
    return out
