"""Who maintains whom (SPEC §3.3): named staff for every maintained customer. Pure Python.

Each customer of a maintained band gets one named staff member of each of its band's roles,
in its own branch; head-office roles (``personal_banking``) come from the head-office pool
(staff with an empty ``branch_id``) and assist the top band. The assignment is:

- **balanced** — a customer needing a person goes to the eligible one with the lowest
  ``load ÷ capacity`` (ties by ``staff_id``); one heap per (branch, role) pool, so 200k
  customers take a couple of seconds;
- **stable** — a customer keeps its previous staff for a role unless
  (a) its band changed and the new band no longer needs that role (the rows of roles the new
  band still needs keep their person), (b) the person is gone (``end_date < as_of``), not yet
  started (``start_date > as_of``), or moved to another branch or role, or (c) the person
  is above capacity *and* someone else in the pool has room: the smallest-AUM customers
  move first (ties: larger ``customer_id`` first), and only as many as the pool's free
  places can take, so nobody is moved just to put someone else over capacity;
- **total** — nobody is dropped. When every eligible person is full, the least-loaded one
  takes the customer anyway; when the branch has no staff of the role, the least-loaded
  staff member of the branch (any role) stands in (``substitute``); with no staff at all the
  row has ``staff_id=None``. Such rows are flagged ``over_capacity``.

``over_capacity`` on a regular row means the row lies beyond its person's capacity: a
person's book is ranked by AUM (largest first, then ``customer_id``) and the rows ranked
past the capacity are flagged — the same rows that move first once room appears.

Reasons: ``kept`` (same person as before), ``new`` (no previous person for this role — a new
customer or a first run — or the previous person is still employed but no longer in this
customer's pool: the customer or the person moved branch, the person changed role, or the
role was covered by a stand-in and is staffed now), ``band_changed`` (the role is new to the
customer because its band changed), ``staff_left`` (the previous person is gone, not yet
started, or unknown), and ``capacity_overflow`` (moved off a person above capacity).
``AssignmentResult.departures`` lists the ``staff_left`` moves; ``released`` lists previous
rows no longer needed (customer gone, band dropped the role, band no longer maintained).
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from tierbook.rules.models import Level, Role

HEAD_OFFICE = ""  # branch_id of head-office staff
HEAD_OFFICE_ROLES: frozenset[Role] = frozenset({Role.PERSONAL_BANKING})


class Reason(StrEnum):
    KEPT = "kept"
    NEW = "new"
    BAND_CHANGED = "band_changed"
    STAFF_LEFT = "staff_left"
    CAPACITY_OVERFLOW = "capacity_overflow"


@dataclass(frozen=True, slots=True)
class CustomerBand:
    """A customer with its maintenance band (a level name of the band ladder)."""

    customer_id: str
    branch_id: str
    band: str
    aum: float


@dataclass(frozen=True, slots=True)
class StaffMember:
    staff_id: str
    branch_id: str  # HEAD_OFFICE ("") for head-office staff
    role: Role
    capacity: int
    start_date: date | None = None
    end_date: date | None = None  # last working day

    def available(self, as_of: date) -> bool:
        """Started on or before ``as_of`` and not gone (``end_date`` on or after it)."""
        started = self.start_date is None or self.start_date <= as_of
        return started and (self.end_date is None or self.end_date >= as_of)


class PreviousRow(Protocol):
    """One row of the previous assignment; an :class:`Assignment` is one."""

    @property
    def customer_id(self) -> str: ...
    @property
    def role(self) -> Role: ...
    @property
    def staff_id(self) -> str | None: ...
    @property
    def band(self) -> str: ...


@dataclass(frozen=True, slots=True)
class PreviousAssignment:
    customer_id: str
    role: Role
    staff_id: str | None
    band: str


@dataclass(frozen=True, slots=True)
class Assignment:
    customer_id: str
    role: Role  # the role the band needs
    staff_id: str | None  # None only when the branch has no staff at all
    band: str
    reason: Reason
    over_capacity: bool = False
    substitute: bool = False  # the person does not hold ``role`` (none of it in the branch)


@dataclass(frozen=True, slots=True)
class Move:
    """A previous row that changed person or disappeared."""

    customer_id: str
    role: Role
    previous_staff_id: str | None
    staff_id: str | None  # None: the row is gone (customer gone or role no longer needed)
    reason: str  # a Reason, or "released"


@dataclass(frozen=True, slots=True)
class AssignmentResult:
    assignments: tuple[Assignment, ...]  # sorted by customer_id, then the band's role order
    moves: tuple[Move, ...]  # rows whose person changed from the previous assignment
    released: tuple[Move, ...]  # previous rows no longer needed (customer gone, role dropped)

    @property
    def departures(self) -> tuple[Move, ...]:
        """Rows moved because their person left (reason ``staff_left``)."""
        return tuple(m for m in self.moves if m.reason == Reason.STAFF_LEFT)

    @property
    def departed_customers(self) -> tuple[str, ...]:
        """Customers reassigned because of a departure, sorted, each once."""
        return tuple(sorted({m.customer_id for m in self.departures}))

    def loads(self) -> dict[str, int]:
        """Number of rows per staff member."""
        out: dict[str, int] = defaultdict(int)
        for a in self.assignments:
            if a.staff_id is not None:
                out[a.staff_id] += 1
        return dict(out)


def band_roles(
    levels: Sequence[Level], *, top_band_assist: Role | None = Role.PERSONAL_BANKING
) -> dict[str, tuple[Role, ...]]:
    """Roles per band of a ladder; unmaintained levels need none. ``top_band_assist`` is added
    to the top level (seed 004: 个人银行金融部根据网点要求进行配合维护)."""
    out: dict[str, tuple[Role, ...]] = {}
    for i, lv in enumerate(levels):
        roles = lv.roles if lv.maintained else ()
        top = i == len(levels) - 1
        if top and roles and top_band_assist is not None and top_band_assist not in roles:
            roles = (*roles, top_band_assist)
        out[lv.name] = tuple(roles)
    return out


Pool = tuple[str, Role]
Slot = tuple[int, int]  # (customer index, role index)


def pool_of(branch_id: str, role: Role) -> Pool:
    """The pool a role is staffed from: the branch, or head office for its own roles."""
    return (HEAD_OFFICE if role in HEAD_OFFICE_ROLES else branch_id, role)


def load_ratio(load: int, capacity: int) -> float:
    """How full a book is (the least full is given the next customer); no capacity: full."""
    return load / capacity if capacity > 0 else float("inf")


class _Books:
    """Loads and per-staff rows, with the staff eligible on ``as_of`` grouped by pool."""

    def __init__(self, staff: Iterable[StaffMember], as_of: date) -> None:
        self.by_id: dict[str, StaffMember] = {}
        for s in sorted(staff, key=lambda s: s.staff_id):
            if s.staff_id in self.by_id:
                raise ValueError(f"staff_id {s.staff_id!r} appears more than once")
            if s.available(as_of):
                self.by_id[s.staff_id] = s
        self.pools: dict[Pool, list[str]] = defaultdict(list)
        self.branch_staff: dict[str, list[str]] = defaultdict(list)
        for s in self.by_id.values():
            self.pools[pool_of(s.branch_id, s.role)].append(s.staff_id)
            if s.branch_id != HEAD_OFFICE:
                self.branch_staff[s.branch_id].append(s.staff_id)
        self.load: dict[str, int] = dict.fromkeys(self.by_id, 0)

    def capacity(self, staff_id: str) -> int:
        return max(self.by_id[staff_id].capacity, 0)

    def heap(self, members: Iterable[str]) -> list[tuple[float, str]]:
        h = [(load_ratio(self.load[s], self.capacity(s)), s) for s in members]
        heapq.heapify(h)
        return h

    def take(self, h: list[tuple[float, str]]) -> str:
        """Pop the least-loaded person of a heap, add one to their load, push them back."""
        _, sid = heapq.heappop(h)
        self.load[sid] += 1
        heapq.heappush(h, (load_ratio(self.load[sid], self.capacity(sid)), sid))
        return sid


def assign_staff(
    customers: Iterable[CustomerBand],
    roles_by_band: Mapping[str, Sequence[Role]],
    staff: Iterable[StaffMember],
    as_of: date,
    previous: Iterable[PreviousRow] | None = None,
) -> AssignmentResult:
    """Assign named staff to every maintained customer; see the module docstring."""
    custs = sorted(customers, key=lambda c: c.customer_id)
    for a, b in itertools.pairwise(custs):
        if a.customer_id == b.customer_id:
            raise ValueError(f"customer_id {a.customer_id!r} appears more than once")
    unknown = sorted({c.band for c in custs if c.band not in roles_by_band})
    if unknown:
        raise ValueError(f"bands not in the ladder: {', '.join(unknown)}")
    plan = _Plan(custs, roles_by_band, _Books(staff, as_of), _index_previous(previous or ()))
    todo = plan.keep_previous()
    shed = plan.shed_overload()
    plan.fill(shed, todo)
    return plan.result()


def _index_previous(previous: Iterable[PreviousRow]) -> dict[str, dict[Role, PreviousRow]]:
    out: dict[str, dict[Role, PreviousRow]] = defaultdict(dict)
    rows = sorted(previous, key=lambda r: (r.customer_id, str(r.role), r.staff_id or ""))
    for r in rows:
        role = r.role if isinstance(r.role, Role) else Role(r.role)
        out[r.customer_id].setdefault(role, r)  # duplicates: first by staff_id wins
    return out


class _Plan:
    """The working state: ``who[i][k]`` is the person of customer ``i`` for its ``k``-th
    role, ``why[i][k]`` the reason; ``subst`` the slots held by a stand-in."""

    def __init__(
        self,
        custs: Sequence[CustomerBand],
        roles_by_band: Mapping[str, Sequence[Role]],
        books: _Books,
        prev: Mapping[str, Mapping[Role, PreviousRow]],
    ) -> None:
        self.custs = custs
        self.books = books
        self.prev = prev
        self.roles = [tuple(roles_by_band[c.band]) for c in custs]
        self.who: list[list[str | None]] = [[None] * len(r) for r in self.roles]
        self.why: list[list[Reason]] = [[Reason.NEW] * len(r) for r in self.roles]
        self.subst: set[Slot] = set()
        self.kept_by: dict[str, list[Slot]] = defaultdict(list)

    def pool(self, slot: Slot) -> Pool:
        i, k = slot
        return pool_of(self.custs[i].branch_id, self.roles[i][k])

    def keep_previous(self) -> dict[Pool, list[Slot]]:
        """Step 1: keep the previous person wherever still eligible; return the open slots."""
        books, todo = self.books, defaultdict(list)
        for i, c in enumerate(self.custs):
            rows = self.prev.get(c.customer_id, {})
            band_changed = any(r.band != c.band for r in rows.values())
            for k, role in enumerate(self.roles[i]):
                pool = self.pool((i, k))
                old = rows.get(role)
                sid = old.staff_id if old is not None else None
                keep = _keepable(books, sid, pool)
                if sid is not None and keep is not None:
                    self.who[i][k], self.why[i][k] = sid, Reason.KEPT
                    books.load[sid] += 1
                    if keep:
                        self.kept_by[sid].append((i, k))
                    else:
                        self.subst.add((i, k))
                    continue
                if sid is None:
                    self.why[i][k] = Reason.BAND_CHANGED if band_changed else Reason.NEW
                elif sid in books.by_id:  # still employed, in another pool: a move
                    self.why[i][k] = Reason.NEW
                else:
                    self.why[i][k] = Reason.STAFF_LEFT
                todo[pool].append((i, k))
        return todo

    def shed_overload(self) -> list[Slot]:
        """Step 2: people above capacity shed their smallest-AUM rows, as many as the other
        people of their pool have free places for (pools in staff_id order)."""
        books = self.books
        free: dict[Pool, int] = defaultdict(int)
        for sid, s in books.by_id.items():
            free[pool_of(s.branch_id, s.role)] += max(books.capacity(sid) - books.load[sid], 0)
        shed: list[Slot] = []
        for sid in sorted(self.kept_by):
            s = books.by_id[sid]
            pool = pool_of(s.branch_id, s.role)
            n = min(books.load[sid] - books.capacity(sid), free[pool])
            if n <= 0:
                continue
            free[pool] -= n
            for i, k in self.rank(self.kept_by[sid])[-n:]:
                self.why[i][k] = Reason.CAPACITY_OVERFLOW
                self.who[i][k] = None
                books.load[sid] -= 1
                shed.append((i, k))
        return shed

    def fill(self, shed: Sequence[Slot], todo: Mapping[Pool, list[Slot]]) -> None:
        """Step 3: open slots go to the least-loaded person of their pool, shed rows first
        (the free places are theirs), then the rest in customer order. Step 4: roles nobody
        holds in the branch go to its least-loaded staff member as a stand-in."""
        queue: dict[Pool, list[Slot]] = defaultdict(list)
        for sl in shed:
            queue[self.pool(sl)].append(sl)
        for pool, slots in todo.items():
            queue[pool].extend(slots)
        orphans: list[Slot] = []
        for pool in sorted(queue):
            members = self.books.pools.get(pool)
            if not members:
                orphans.extend(queue[pool])
                continue
            h = self.books.heap(members)
            for i, k in queue[pool]:
                self.who[i][k] = self.books.take(h)
        self._fill_substitutes(sorted(orphans))

    def _fill_substitutes(self, slots: Sequence[Slot]) -> None:
        heaps: dict[str, list[tuple[float, str]]] = {}
        for i, k in slots:
            branch = self.pool((i, k))[0]
            members = self.books.branch_staff.get(branch) if branch != HEAD_OFFICE else None
            self.subst.add((i, k))
            if not members:
                continue  # nobody at all: the row stays, with staff_id None
            if branch not in heaps:
                heaps[branch] = self.books.heap(members)
            h = heaps[branch]
            taken = set(self.who[i])
            skipped = []  # prefer someone not already serving this customer
            while len(h) > 1 and h[0][1] in taken:
                skipped.append(heapq.heappop(h))
            self.who[i][k] = self.books.take(h)
            for e in skipped:
                heapq.heappush(h, e)

    def rank(self, slots: Iterable[Slot]) -> list[Slot]:
        """Rows of one book, most valuable first: AUM descending, then customer_id."""
        custs = self.custs
        return sorted(slots, key=lambda sl: (-custs[sl[0]].aum, custs[sl[0]].customer_id))

    def result(self) -> AssignmentResult:
        book: dict[str, list[Slot]] = defaultdict(list)
        for i, row in enumerate(self.who):
            for k, sid in enumerate(row):
                if sid is not None and (i, k) not in self.subst:
                    book[sid].append((i, k))
        over: set[Slot] = set(self.subst)
        for sid, slots in book.items():
            cap = self.books.capacity(sid)
            if len(slots) > cap:
                over.update(self.rank(slots)[cap:])
        rows: list[Assignment] = []
        moves: list[Move] = []
        for i, c in enumerate(self.custs):
            prev = self.prev.get(c.customer_id, {})
            for k, role in enumerate(self.roles[i]):
                sid, why = self.who[i][k], self.why[i][k]
                rows.append(
                    Assignment(
                        c.customer_id,
                        role,
                        sid,
                        c.band,
                        why,
                        over_capacity=(i, k) in over,
                        substitute=(i, k) in self.subst and sid is not None,
                    )
                )
                old = prev.get(role)
                if old is not None and old.staff_id != sid:
                    moves.append(Move(c.customer_id, role, old.staff_id, sid, why))
        return AssignmentResult(tuple(rows), tuple(moves), self._released())

    def _released(self) -> tuple[Move, ...]:
        index = {c.customer_id: i for i, c in enumerate(self.custs)}
        out: list[Move] = []
        for cid in sorted(self.prev):
            i = index.get(cid)
            keep = self.roles[i] if i is not None else ()
            for role in sorted(self.prev[cid], key=str):
                if role not in keep:
                    out.append(Move(cid, role, self.prev[cid][role].staff_id, None, "released"))
        return tuple(out)


def _keepable(books: _Books, staff_id: str | None, pool: Pool) -> bool | None:
    """True: the person holds the pool's role and branch; False: a stand-in who may stay
    (same branch, and still nobody holds the role there); None: cannot keep."""
    s = books.by_id.get(staff_id) if staff_id is not None else None
    if s is None:
        return None
    if pool_of(s.branch_id, s.role) == pool:
        return True
    if pool[0] != HEAD_OFFICE and s.branch_id == pool[0] and not books.pools.get(pool):
        return False
    return None
