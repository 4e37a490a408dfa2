"""Branches and staff of the demo bank, sized to the customer book.

Each branch has every role of seed 004's maintenance split; capacities are the expected
number of customers of the role's band in the largest branch, with 50% headroom, so assignment
fits without being trivially loose. Two head-office personal-banking staff have no branch.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np

from tierbook.demo import names as vocab
from tierbook.demo.people import BranchSite, person_names
from tierbook.demo.wealth import share_at_least

# role → (count per branch as (low, high), band of target AUM the role maintains)
ROLE_PLAN: dict[str, tuple[tuple[int, int], tuple[float, float]]] = {
    "teller": ((3, 3), (1_000.0, 50_000.0)),
    "vip_teller": ((2, 2), (50_000.0, 200_000.0)),
    "lobby_manager": ((1, 1), (200_000.0, 500_000.0)),
    "rm": ((3, 4), (200_000.0, 3_000_000.0)),
    "rm_supervisor": ((1, 1), (500_000.0, math.inf)),
    "branch_manager": ((1, 1), (3_000_000.0, math.inf)),
}


def branch_sites(n: int) -> list[BranchSite]:
    sites = []
    for i in range(n):
        name, city, region = vocab.BRANCH_SITES[i % len(vocab.BRANCH_SITES)]
        if i >= len(vocab.BRANCH_SITES):
            name = name.replace("支行", f"第{i // len(vocab.BRANCH_SITES) + 1}支行")
        sites.append(BranchSite(f"B{i + 1:03d}", name, city, region))
    return sites


def branch_weights(n: int) -> np.ndarray:
    """Share of customers per branch: the first branches are the larger ones."""
    w = np.linspace(1.4, 0.7, n) if n > 1 else np.ones(1)
    return w / w.sum()


def _capacity(per_branch: float, band: tuple[float, float], heads: int) -> int:
    lo, hi = band
    share = share_at_least(lo) - (share_at_least(hi) if math.isfinite(hi) else 0.0)
    need = per_branch * share * 1.5 / heads
    step = 50 if need > 200 else 10
    return max(step, int(math.ceil(need / step) * step))


def make_staff(
    rng: np.random.Generator, sites: list[BranchSite], customers: int, year: int
) -> list[dict[str, object]]:
    per_branch = customers * float(branch_weights(len(sites)).max())  # the largest branch
    rows: list[dict[str, object]] = []
    start = date(year, 1, 1)

    def hired() -> str:
        return (start - timedelta(days=int(rng.integers(60, 15 * 365)))).isoformat()

    for site in sites:
        for role, ((lo, hi), band) in ROLE_PLAN.items():
            heads = int(rng.integers(lo, hi + 1))
            cap = _capacity(per_branch, band, heads)
            for _ in range(heads):
                rows.append({"branch_id": site.branch_id, "role": role, "capacity": cap})
    for _ in range(2):
        rows.append(
            {
                "branch_id": None,
                "role": "personal_banking",
                "capacity": _capacity(customers, (3_000_000.0, math.inf), 2),
            }
        )
    names = person_names(rng, rng.random(len(rows)) < 0.5)
    for i, row in enumerate(rows):
        row["staff_id"] = f"S{i + 1:04d}"
        row["name"] = names[i]
        row["start_date"] = hired()
        row["end_date"] = None
    # departures: one teller and one RM leave during the year
    for role in ("teller", "rm"):
        pool = [r for r in rows if r["role"] == role]
        leaver = pool[int(rng.integers(0, len(pool)))]
        leaver["end_date"] = (start + timedelta(days=int(rng.integers(90, 300)))).isoformat()
    order = ("staff_id", "name", "branch_id", "role", "capacity", "start_date", "end_date")
    return [{k: r[k] for k in order} for r in rows]
