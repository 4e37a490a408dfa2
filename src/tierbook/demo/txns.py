"""Transactions of deposit accounts, derived from the balance changes.

Per account and day, inflows minus outflows equal the change of the end-of-day balance
(an opening counts as an inflow of the first balance, a close as an outflow of the last).
Some changes are the net of two transactions (salary in, card spending out), and planted
pass-through pairs add turnover without moving the balance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tierbook.demo.paths import CP
from tierbook.ingest.contract import COUNTERPARTY_TYPES, TXN_CHANNELS

# counterparty probabilities, in the order of COUNTERPARTY_TYPES:
# own internal other_bank merchant salary securities
_IN = np.array([0.15, 0.12, 0.25, 0.05, 0.33, 0.10])
_OUT = np.array([0.12, 0.12, 0.20, 0.48, 0.0, 0.08])
# channel probabilities per counterparty, in the order of TXN_CHANNELS:
# counter atm mobile online pos transfer
_CHANNEL = np.array(
    [
        [0.25, 0.15, 0.60, 0.00, 0.00, 0.00],  # own
        [0.10, 0.00, 0.50, 0.00, 0.00, 0.40],  # internal
        [0.15, 0.00, 0.45, 0.25, 0.00, 0.15],  # other_bank
        [0.00, 0.00, 0.35, 0.05, 0.60, 0.00],  # merchant
        [0.00, 0.00, 0.00, 0.00, 0.00, 1.00],  # salary
        [0.00, 0.00, 0.40, 0.60, 0.00, 0.00],  # securities
    ]
)


@dataclass
class Txns:
    acct: np.ndarray
    day: np.ndarray
    amount: np.ndarray  # > 0
    out: np.ndarray  # True for 'out'
    channel: np.ndarray  # index into TXN_CHANNELS
    cp: np.ndarray  # index into COUNTERPARTY_TYPES


def _draw(rng: np.random.Generator, probs: np.ndarray, n: int) -> np.ndarray:
    return np.searchsorted(np.cumsum(probs), rng.random(n) * probs.sum(), side="right").clip(
        0, len(probs) - 1
    )


def build(
    rng: np.random.Generator,
    a: np.ndarray,
    d: np.ndarray,
    delta: np.ndarray,
    *,
    override: np.ndarray,
    time_deposit: np.ndarray,
    corporate: np.ndarray,
    extra: list[tuple[int, int, float, int, int]],
) -> Txns:
    """``a, d, delta``: observable balance changes; ``override``: counterparty per change or -1."""
    n = len(a)
    split = (rng.random(n) < 0.3) & (override < 0) & ~time_deposit[a]
    side = np.round(np.abs(delta[split]) * rng.uniform(0.05, 0.6, split.sum()), 2) + 0.01
    main_amt = np.abs(delta).copy()
    main_amt[split] += side
    acct = np.concatenate([a, a[split]])
    day = np.concatenate([d, d[split]])
    amount = np.concatenate([main_amt, side])
    out = np.concatenate([delta < 0, delta[split] > 0])
    forced = np.concatenate([override, np.full(split.sum(), -1)])
    order_key = np.concatenate([np.zeros(n), np.ones(split.sum())])
    if extra:
        ex = np.asarray(extra, dtype=float)
        acct = np.concatenate([acct, ex[:, 0].astype(np.int64)])
        day = np.concatenate([day, ex[:, 1].astype(np.int64)])
        amount = np.concatenate([amount, np.abs(ex[:, 2])])
        out = np.concatenate([out, ex[:, 2] < 0])
        forced = np.concatenate([forced, ex[:, 3].astype(np.int64)])
        order_key = np.concatenate([order_key, 2 + np.arange(len(ex)) / len(ex)])

    m = len(acct)
    cp = np.where(out, _draw(rng, _OUT, m), _draw(rng, _IN, m))
    cp[time_deposit[acct]] = CP["own"]
    corp_salary = corporate[acct] & (cp == CP["salary"])
    cp[corp_salary] = CP["other_bank"]
    cp = np.where(forced >= 0, forced, cp)
    channel = np.empty(m, dtype=np.int64)
    u = rng.random(m)
    for k in range(len(COUNTERPARTY_TYPES)):
        sel = cp == k
        channel[sel] = np.searchsorted(np.cumsum(_CHANNEL[k]), u[sel], side="right").clip(
            0, len(TXN_CHANNELS) - 1
        )
    order = np.lexsort((order_key, day, acct))
    return Txns(
        acct[order], day[order], np.round(amount[order], 2), out[order], channel[order], cp[order]
    )
