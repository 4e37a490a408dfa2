"""The staff assignment of :mod:`tierbook.domain.assignment` over whole columns.

The same rule, step for step, with every per-customer step done on numpy arrays: the
customers' open roles (*slots*), keeping the previous person, the reasons, the loads, the
over-capacity flags, the moves and the released rows. What stays a Python loop is what is
sequential by nature and small on a daily run: the staff above capacity shedding rows (one
iteration per person), the least-loaded fill of the slots left open (one heap step per open
slot: new customers, band changes, departures) and the branch stand-ins. The domain module
stays the reference (its tests state the rule); ``tests/unit/test_assignment_columns.py``
checks that both give the same frames on random banks.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from tierbook.domain.assignment import (
    HEAD_OFFICE,
    HEAD_OFFICE_ROLES,
    Pool,
    Reason,
    StaffMember,
    load_ratio,
    pool_of,
)
from tierbook.rules.models import Role

_REASONS = tuple(Reason)
_R = {r: i for i, r in enumerate(_REASONS)}


@dataclass(frozen=True)
class ColumnResult:
    """Row lists in the order of ``AssignmentResult`` (customers sorted, band role order)."""

    customer_id: list[str]
    role: list[str]
    staff_id: list[str | None]
    band: list[str]
    reason: list[str]
    over_capacity: list[bool]
    substitute: list[bool]
    moves: list[tuple[str, str, str | None, str | None, str]]
    released: list[tuple[str, str, str | None, None, str]]


class _Staff:
    """The staff eligible on ``as_of`` (by ``staff_id``), their pools, loads and capacities."""

    def __init__(self, staff: Sequence[StaffMember], as_of: date) -> None:
        seen: set[str] = set()
        members: list[StaffMember] = []
        for s in sorted(staff, key=lambda s: s.staff_id):
            if s.staff_id in seen:
                raise ValueError(f"staff_id {s.staff_id!r} appears more than once")
            seen.add(s.staff_id)
            if s.available(as_of):
                members.append(s)
        self.ids = [s.staff_id for s in members]
        self.index = {sid: j for j, sid in enumerate(self.ids)}
        self.cap = np.asarray([max(s.capacity, 0) for s in members], dtype=np.int64)
        self.branch = [s.branch_id for s in members]
        self.pool = [pool_of(s.branch_id, s.role) for s in members]
        self.pools: dict[Pool, list[int]] = defaultdict(list)
        self.branch_staff: dict[str, list[int]] = defaultdict(list)
        for j, s in enumerate(members):
            self.pools[self.pool[j]].append(j)
            if s.branch_id != HEAD_OFFICE:
                self.branch_staff[s.branch_id].append(j)
        self.load = np.zeros(len(members), dtype=np.int64)

    def heap(self, members: Sequence[int]) -> list[tuple[float, str, int]]:
        h = [(load_ratio(int(self.load[j]), int(self.cap[j])), self.ids[j], j) for j in members]
        heapq.heapify(h)
        return h

    def take(self, h: list[tuple[float, str, int]]) -> int:
        _, sid, j = heapq.heappop(h)
        self.load[j] += 1
        heapq.heappush(h, (load_ratio(int(self.load[j]), int(self.cap[j])), sid, j))
        return j


def assign_columns(
    customer_id: Sequence[str],
    branch_id: Sequence[str],
    band: Sequence[str],
    aum: np.ndarray,
    roles_by_band: Mapping[str, Sequence[Role]],
    staff: Sequence[StaffMember],
    as_of: date,
    previous: pd.DataFrame | None = None,
) -> ColumnResult:
    """``assign_staff`` over columns. ``previous``: text columns ``customer_id, role,
    staff_id`` (empty: none), ``band``."""
    cid = np.asarray(customer_id, dtype=object)
    order = np.argsort(cid, kind="stable")
    cid = cid[order]
    dup = np.flatnonzero(cid[1:] == cid[:-1])
    if len(dup):
        raise ValueError(f"customer_id {cid[dup[0]]!r} appears more than once")
    branch = np.asarray(branch_id, dtype=object)[order]
    bands = np.asarray(band, dtype=object)[order]
    value = np.asarray(aum, dtype=np.float64)[order]
    unknown = sorted({b for b in pd.unique(bands) if b not in roles_by_band})
    if unknown:
        raise ValueError(f"bands not in the ladder: {', '.join(unknown)}")
    books = _Staff(staff, as_of)
    slots = _Slots(cid, branch, bands, value, roles_by_band, books)
    slots.keep_previous(_index_previous(previous), cid, bands)
    shed = slots.shed_overload()
    slots.fill(shed)
    return slots.result(cid, bands)


def _index_previous(previous: pd.DataFrame | None) -> pd.DataFrame:
    """One previous row per (customer, role): duplicates, the first by ``staff_id``."""
    cols = ["customer_id", "role", "staff_id", "band"]
    if previous is None or previous.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    p = pd.DataFrame({c: np.asarray(previous[c], dtype=object) for c in cols})
    values = {r: Role(r).value for r in pd.unique(p["role"])}  # an unknown role is refused
    p["role"] = p["role"].map(values)
    p = p.sort_values(["customer_id", "role", "staff_id"], kind="stable")
    return p.drop_duplicates(["customer_id", "role"], keep="first").reset_index(drop=True)


class _Slots:
    """Every (customer, role) the customers' bands need, in customer then role order: its
    pool, person (``who``, an index into the staff or -1), reason and stand-in flag."""

    def __init__(
        self,
        cid: np.ndarray,
        branch: np.ndarray,
        bands: np.ndarray,
        value: np.ndarray,
        roles_by_band: Mapping[str, Sequence[Role]],
        books: _Staff,
    ) -> None:
        self.books = books
        names = list(roles_by_band)
        code = pd.Index(names).get_indexer(bands)
        n_roles = np.asarray([len(roles_by_band[b]) for b in names], dtype=np.int64)[code]
        self.first = np.concatenate([[0], np.cumsum(n_roles)])  # customer i: first..first+n
        n = int(self.first[-1])
        self.cust = np.repeat(np.arange(len(cid)), n_roles)
        self.k = np.arange(n) - self.first[self.cust]
        table = [tuple(roles_by_band[b]) for b in names]
        role_list = list(Role)
        width = max([1, *(len(t) for t in table)])
        role_code = np.full((max(len(table), 1), width), -1, dtype=np.int64)
        for b, t in enumerate(table):
            role_code[b, : len(t)] = [role_list.index(r) for r in t]
        self.role = role_code[code[self.cust], self.k] if n else np.zeros(0, np.int64)
        self.role_list = role_list
        ho = np.isin(self.role, [role_list.index(r) for r in HEAD_OFFICE_ROLES])
        pool_branch = np.where(ho, HEAD_OFFICE, branch[self.cust])
        # (branch, role) pools numbered in order of first appearance, as a factorize of
        # the pairs would: the branch codes and the role combined into one integer key
        bcode, branches = pd.factorize(pool_branch)
        pair, uniq = pd.factorize(bcode.astype(np.int64) * len(role_list) + self.role)
        self.pool_id = pair
        self.pool_keys: list[Pool] = [
            (branches[int(u) // len(role_list)], role_list[int(u) % len(role_list)]) for u in uniq
        ]
        self.value, self.branch = value, branch
        self.who = np.full(n, -1, dtype=np.int64)
        self.why = np.zeros(n, dtype=np.int8)
        self.subst = np.zeros(n, dtype=bool)
        self.kept_own = np.zeros(n, dtype=bool)  # kept, the person holds the pool's role
        self.old_sid = np.full(n, None, dtype=object)
        self.has_old = np.zeros(n, dtype=bool)
        self.todo = np.zeros(0, dtype=np.int64)

    def keep_previous(self, prev: pd.DataFrame, cid: np.ndarray, bands: np.ndarray) -> None:
        """Step 1: keep the previous person wherever still eligible; the rest are open."""
        books, n = self.books, len(self.who)
        pc = pd.Index(cid).get_indexer(prev["customer_id"])
        known = pc >= 0
        changed = np.zeros(len(cid), dtype=bool)
        differs = prev["band"].to_numpy(dtype=object)[known] != bands[pc[known]]
        np.logical_or.at(changed, pc[known], differs.astype(bool))
        role_of = {r.value: i for i, r in enumerate(self.role_list)}
        prole = np.asarray([role_of[r] for r in prev["role"].tolist()], dtype=np.int64)
        width = len(self.role_list)  # (customer, role) as one integer key
        slot_key = pd.Index(self.cust.astype(np.int64) * width + self.role)
        at = slot_key.get_indexer(pc.astype(np.int64) * width + prole) if len(pc) else pc
        hit = known & (at >= 0)
        self.prev_slot = np.where(hit, at, -1)
        self.prev_frame = prev
        sids = prev["staff_id"].to_numpy(dtype=object)
        self.has_old[at[hit]] = True
        self.old_sid[at[hit]] = [s if s else None for s in sids[hit]]
        staff_of = np.asarray(
            [books.index.get(s, -1) if s else -1 for s in self.old_sid.tolist()], dtype=np.int64
        )
        pool_members = np.asarray([bool(books.pools.get(p)) for p in self.pool_keys], dtype=bool)
        pool_index = {p: q for q, p in enumerate(self.pool_keys)}
        own_pool = np.asarray([pool_index.get(p, -1) for p in books.pool] or [-1], dtype=np.int64)
        s = np.where(staff_of >= 0, staff_of, 0)
        valid = staff_of >= 0
        own = valid & (own_pool[s] == self.pool_id) if len(books.ids) else np.zeros(n, bool)
        pool_branch = np.asarray([p[0] for p in self.pool_keys], dtype=object)[self.pool_id]
        staff_branch = np.asarray(books.branch or [""], dtype=object)[s]
        stand_in = (
            valid
            & ~own
            & (pool_branch != HEAD_OFFICE)
            & (staff_branch == pool_branch)
            & ~pool_members[self.pool_id]
        )
        kept = own | stand_in
        self.who[kept] = staff_of[kept]
        self.why[kept] = _R[Reason.KEPT]
        self.kept_own = own
        self.subst[stand_in] = True
        if len(books.ids):
            books.load += np.bincount(staff_of[kept], minlength=len(books.ids))
        no_sid = ~self.has_old | (self.old_sid == None)  # noqa: E711 (elementwise)
        employed = np.asarray(
            [s is not None and s in books.index for s in self.old_sid.tolist()], dtype=bool
        )
        why = np.where(
            no_sid,
            np.where(changed[self.cust], _R[Reason.BAND_CHANGED], _R[Reason.NEW]),
            np.where(employed, _R[Reason.NEW], _R[Reason.STAFF_LEFT]),
        )
        self.why[~kept] = why[~kept]
        self.todo = np.flatnonzero(~kept)

    def shed_overload(self) -> list[int]:
        """Step 2: people above capacity shed their smallest-AUM rows, as many as the other
        people of their pool have free places for (people in staff_id order)."""
        books = self.books
        free: dict[Pool, int] = defaultdict(int)
        for j, pool in enumerate(books.pool):
            free[pool] += max(int(books.cap[j] - books.load[j]), 0)
        own = np.flatnonzero(self.kept_own)
        holders = np.unique(self.who[own])  # staff indices are in staff_id order
        shed: list[int] = []
        for j in holders.tolist():
            pool = books.pool[j]
            n = min(int(books.load[j] - books.cap[j]), free[pool])
            if n <= 0:
                continue
            free[pool] -= n
            rows = own[self.who[own] == j]
            ranked = rows[np.lexsort((self.cust[rows], -self.value[self.cust[rows]]))]
            for sl in ranked[-n:].tolist():
                self.why[sl] = _R[Reason.CAPACITY_OVERFLOW]
                self.who[sl] = -1
                books.load[j] -= 1
                shed.append(sl)
        return shed

    def fill(self, shed: Sequence[int]) -> None:
        """Step 3: open slots to the least-loaded person of their pool, shed rows first, then
        the rest in customer order; step 4: roles nobody holds in the branch to a stand-in."""
        queue: dict[int, list[int]] = defaultdict(list)
        for sl in shed:
            queue[int(self.pool_id[sl])].append(sl)
        todo = self.todo
        if len(todo):
            by_pool = np.argsort(self.pool_id[todo], kind="stable")
            pools, starts = np.unique(self.pool_id[todo][by_pool], return_index=True)
            for p, part in zip(pools.tolist(), np.split(todo[by_pool], starts[1:]), strict=True):
                queue[p].extend(part.tolist())
        orphans: list[int] = []
        books = self.books
        for p in sorted(queue, key=lambda q: self.pool_keys[q]):
            members = books.pools.get(self.pool_keys[p])
            if not members:
                orphans.extend(queue[p])
                continue
            h = books.heap(members)
            for sl in queue[p]:
                self.who[sl] = books.take(h)
        self._fill_substitutes(sorted(orphans))

    def _fill_substitutes(self, slots: Sequence[int]) -> None:
        books = self.books
        heaps: dict[str, list[tuple[float, str, int]]] = {}
        for sl in slots:
            branch = self.pool_keys[int(self.pool_id[sl])][0]
            members = books.branch_staff.get(branch) if branch != HEAD_OFFICE else None
            self.subst[sl] = True
            if not members:
                continue
            if branch not in heaps:
                heaps[branch] = books.heap(members)
            h = heaps[branch]
            i = int(self.cust[sl])
            mine = self.who[self.first[i] : self.first[i + 1]].tolist()
            taken = {books.ids[j] if j >= 0 else None for j in mine}
            skipped = []
            while len(h) > 1 and h[0][1] in taken:
                skipped.append(heapq.heappop(h))
            self.who[sl] = books.take(h)
            for e in skipped:
                heapq.heappush(h, e)

    def result(self, cid: np.ndarray, bands: np.ndarray) -> ColumnResult:
        books = self.books
        ids = np.asarray([*books.ids, None], dtype=object)  # index -1: nobody
        sid = ids[self.who]
        over = self.subst.copy()
        book = np.flatnonzero((self.who >= 0) & ~self.subst)
        if len(book):
            w = self.who[book]
            ranked = book[np.lexsort((self.cust[book], -self.value[self.cust[book]], w))]
            w = self.who[ranked]
            start = np.searchsorted(w, w, side="left")  # first row of each person's book
            rank = np.arange(len(ranked)) - start
            over[ranked[rank >= books.cap[w]]] = True
        role_values = np.asarray([r.value for r in self.role_list], dtype=object)
        roles = role_values[self.role]
        reasons = np.asarray([r.value for r in _REASONS], dtype=object)[self.why]
        cust_ids = cid[self.cust]
        moved = np.flatnonzero(self.has_old & (self.old_sid != sid))
        moves = list(
            zip(
                cust_ids[moved].tolist(),
                roles[moved].tolist(),
                self.old_sid[moved].tolist(),
                sid[moved].tolist(),
                reasons[moved].tolist(),
                strict=True,
            )
        )
        prev = self.prev_frame
        gone = prev.loc[self.prev_slot < 0]
        released = [
            (c, r, s if s else None, None, "released")
            for c, r, s in zip(gone["customer_id"], gone["role"], gone["staff_id"], strict=True)
        ]
        return ColumnResult(
            customer_id=cust_ids.tolist(),
            role=roles.tolist(),
            staff_id=sid.tolist(),
            band=bands[self.cust].tolist(),
            reason=reasons.tolist(),
            over_capacity=over.tolist(),
            substitute=(self.subst & (self.who >= 0)).tolist(),
            moves=moves,
            released=released,
        )
