"""Customers of the demo bank: individuals and corporate or institutional clients.

Every identity number is valid: resident IDs encode a birthplace division code, the birth
date and the gender and end in their GB 11643 check character; unified social credit
codes carry a GB 11714 organisation code and the GB 32100 check character. Some soft
archive fields are left empty on purpose (data-collection tasks need missing data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tierbook.demo import names as vocab
from tierbook.domain.identity import resident_id_check_char, uscc_check_char

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # the USCC alphabet, so the code fits in it


@dataclass
class People:
    """Columns of the customers table for one chunk, plus what later stages need."""

    columns: dict[str, list[object]]
    open_day: np.ndarray  # customer open date as datetime64[D]
    wealth: np.ndarray  # target weighted AUM (CNY)
    activity: np.ndarray  # 0..1, scales how often balances move
    kind: np.ndarray  # "individual" | "corporate" | "institution"


def _choice(rng: np.random.Generator, items: tuple[str, ...], n: int) -> np.ndarray:
    return np.asarray(items, dtype=object)[rng.integers(0, len(items), n)]


def _weighted(rng: np.random.Generator, pairs: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    labels = np.asarray([p[0] for p in pairs], dtype=object)
    w = np.asarray([p[1] for p in pairs], dtype=float)
    return labels[rng.choice(len(pairs), n, p=w / w.sum())]


def _blank(rng: np.random.Generator, values: list[object], share: float) -> list[object]:
    drop = rng.random(len(values)) < share
    return [None if d else v for v, d in zip(values, drop, strict=True)]


def person_names(rng: np.random.Generator, male: np.ndarray) -> list[str]:
    surnames = _weighted(rng, vocab.SURNAMES, len(male))
    two = rng.random(len(male)) < 0.7
    first = np.where(
        male, _choice(rng, vocab.GIVEN_MALE, len(male)), _choice(rng, vocab.GIVEN_FEMALE, len(male))
    )
    second = np.where(
        rng.random(len(male)) < 0.25,
        _choice(rng, vocab.GIVEN_NEUTRAL, len(male)),
        np.where(
            male,
            _choice(rng, vocab.GIVEN_MALE, len(male)),
            _choice(rng, vocab.GIVEN_FEMALE, len(male)),
        ),
    )
    return [
        s + f + (t if w else "") for s, f, t, w in zip(surnames, first, second, two, strict=True)
    ]


def resident_ids(
    regions: np.ndarray, births: np.ndarray, male: np.ndarray, seq: np.ndarray
) -> list[str]:
    """18-digit resident IDs: region, YYYYMMDD, 3-digit order (odd = male), check char."""
    out = []
    for region, born, m, s in zip(
        regions, births.astype("datetime64[D]").astype(str), male, seq, strict=True
    ):
        order = int(s) * 2 + (1 if m else 0)
        body = f"{region}{born.replace('-', '')}{order:03d}"
        out.append(body + resident_id_check_char(body))
    return out


def mobiles(rng: np.random.Generator, n: int) -> list[str]:
    """Valid mainland mobiles, a few written with +86, spaces or hyphens."""
    prefix = _choice(rng, vocab.MOBILE_PREFIXES, n)
    rest = rng.integers(0, 100_000_000, n)
    style = rng.random(n)
    out = []
    for p, r, s in zip(prefix, rest, style, strict=True):
        num = f"{p}{r:08d}"
        if s < 0.06:
            num = f"+86 {num[:3]} {num[3:7]} {num[7:]}"
        elif s < 0.10:
            num = f"{num[:3]} {num[3:7]} {num[7:]}"
        elif s < 0.13:
            num = f"{num[:3]}-{num[3:7]}-{num[7:]}"
        elif s < 0.15:
            num = "86" + num
        out.append(num)
    return out


def addresses(rng: np.random.Generator, cities: np.ndarray) -> list[str]:
    n = len(cities)
    road = _choice(rng, vocab.ROADS, n)
    estate = _choice(rng, vocab.ESTATES, n)
    no = rng.integers(1, 400, n)
    bld = rng.integers(1, 30, n)
    room = rng.integers(1, 33, n) * 100 + rng.integers(1, 5, n)
    picks = rng.integers(0, 1000, n)
    out = []
    for c, r, e, a, b, rm, k in zip(cities, road, estate, no, bld, room, picks, strict=True):
        districts = vocab.DISTRICTS[c]
        out.append(f"江苏省{c}市{districts[k % len(districts)]}{r}{a}号{e}{b}栋{rm}室")
    return out


def org_code(rng: np.random.Generator) -> str:
    """A GB 11714 organisation code: 8 characters and their check character."""
    body = "".join(_ORG_ALPHABET[i] for i in rng.integers(0, 10, 8))
    total = sum(int(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(rng: np.random.Generator, kind: str, region: str) -> str:
    prefix = {"corporate": "91", "institution": "12", "government": "11"}[kind]
    body = prefix + region + org_code(rng)
    return body + uscc_check_char(body)


def _dates(values: np.ndarray) -> list[object]:
    return [str(v) if not np.isnat(v) else None for v in values.astype("datetime64[D]")]


@dataclass(frozen=True)
class BranchSite:
    branch_id: str
    name: str
    city: str
    region: str


def _open_days(rng: np.random.Generator, n: int, year: int, new_share: float) -> np.ndarray:
    start = np.datetime64(f"{year}-01-01")
    days = (np.datetime64(f"{year + 1}-01-01") - start).astype(int)
    tenure = np.minimum(rng.exponential(6.0 * 365.0, n).astype(int) + 1, 25 * 365)
    opened = start - tenure.astype("timedelta64[D]")
    new = rng.random(n) < new_share
    opened[new] = start + rng.integers(0, days - 20, new.sum()).astype("timedelta64[D]")
    return opened


def make_individuals(
    rng: np.random.Generator,
    n: int,
    *,
    year: int,
    sites: list[BranchSite],
    branch_of: np.ndarray,
    wealth: np.ndarray,
) -> People:
    start = np.datetime64(f"{year}-01-01")
    lw = np.log(np.maximum(wealth, 1.0))
    age = np.clip(rng.normal(40.0 + 2.5 * (lw - 9.0), 14.0), 18.6, 88.0)
    births = start - (age * 365.25).astype(int).astype("timedelta64[D]")
    male = rng.random(n) < 0.5
    city = np.asarray([sites[b].city for b in branch_of], dtype=object)
    home = np.asarray([sites[b].region for b in branch_of], dtype=object)
    regions = np.where(rng.random(n) < 0.65, home, _choice(rng, vocab.OTHER_REGIONS, n))
    ids = resident_ids(regions, births, male, rng.integers(0, 500, n))
    opened = _open_days(rng, n, year, 0.08)
    adult = births + np.timedelta64(int(18 * 365.25) + 1, "D")
    opened = np.maximum(opened, adult)

    occupation = _weighted(rng, vocab.OCCUPATIONS, n)
    occupation[(age >= 60) & (rng.random(n) < 0.8)] = "退休"
    occupation[(age < 23) & (rng.random(n) < 0.7)] = "学生"
    rich = wealth >= 3_000_000
    occupation[rich & (rng.random(n) < 0.6)] = "企业主"
    income = np.round(np.exp(rng.normal(11.0, 0.55, n)) + wealth * rng.uniform(0.05, 0.3, n), -2)
    risk_p = np.clip((lw - 7.0) / 8.0, 0.0, 1.0)
    risk = np.asarray(
        [
            f"C{k}"
            for k in np.clip(np.round(1 + 3.5 * risk_p + rng.normal(0, 0.9, n)), 1, 5).astype(int)
        ]
    )
    k_hobbies = rng.integers(1, 4, n)
    hobbies = ["、".join(sorted(set(_choice(rng, vocab.HOBBIES, k)))) for k in k_hobbies]
    channel_w = (
        ("app", 35),
        ("wechat", 25),
        ("branch", 20),
        ("phone", 10),
        ("sms", 5),
        ("email", 2),
        ("visit", 3),
    )
    channel = _weighted(rng, channel_w, n)
    channel[(wealth >= 1_000_000) & (rng.random(n) < 0.5)] = "visit"

    columns: dict[str, list[object]] = {
        "kind": ["individual"] * n,
        "name": person_names(rng, male),
        "branch_id": [sites[b].branch_id for b in branch_of],
        "open_date": _dates(opened),
        "birth_date": _blank(rng, _dates(births), 0.04),
        "id_number": list(ids),
        "phone": _blank(rng, list(mobiles(rng, n)), 0.05),
        "address": _blank(rng, addresses(rng, city), 0.08),
        "occupation": _blank(rng, list(occupation), 0.10),
        "annual_income": _blank(rng, [float(x) for x in income], 0.15),
        "risk_preference": _blank(rng, list(risk), 0.05),
        "hobbies": _blank(rng, hobbies, 0.40),
        "family": _blank(rng, list(_choice(rng, vocab.FAMILY, n)), 0.30),
        "preferred_channel": _blank(rng, list(channel), 0.10),
        "sector": [None] * n,
        "industry": [None] * n,
        "annual_sales": [None] * n,
        "listed_industry": [None] * n,
    }
    activity = rng.beta(2.0, 2.0, n)
    return People(columns, opened, wealth, activity, np.full(n, "individual", dtype=object))


def make_corporates(
    rng: np.random.Generator,
    n: int,
    *,
    year: int,
    sites: list[BranchSite],
    branch_of: np.ndarray,
    wealth: np.ndarray,
) -> People:
    institution = rng.random(n) < 0.15
    opened = _open_days(rng, n, year, 0.05)
    city = np.asarray([sites[b].city for b in branch_of], dtype=object)
    names, sectors, industries, sales, listed, codes = [], [], [], [], [], []
    band = rng.random(n)
    for i in range(n):
        site = sites[branch_of[i]]
        if institution[i]:
            label, sector = vocab.INSTITUTIONS[rng.integers(0, len(vocab.INSTITUTIONS))]
            names.append(f"{site.city}市{label}")
            sectors.append(sector)
            industries.append("公共管理" if sector == "government" else "公共服务")
            sales.append(None)
            listed.append(None)
            codes.append(
                credit_code(
                    rng, "government" if sector == "government" else "institution", site.region
                )
            )
            continue
        pool = vocab.INDUSTRIES
        if 0.10 <= band[i] < 0.18:  # 1.5亿–3亿 in an industry with the 1.5亿 line
            pool = tuple(x for x in vocab.INDUSTRIES if x[2])
        industry, sector, is_listed = pool[rng.integers(0, len(pool))]
        w1, w2 = (
            vocab.FIRM_WORDS[rng.integers(0, len(vocab.FIRM_WORDS))],
            vocab.FIRM_WORDS[rng.integers(0, len(vocab.FIRM_WORDS))],
        )
        suffix = vocab.FIRM_SUFFIX[rng.integers(0, len(vocab.FIRM_SUFFIX))]
        names.append(f"{site.city}{w1}{w2}{industry}{suffix}")
        sectors.append(sector)
        industries.append(industry)
        listed.append(is_listed)
        if band[i] < 0.10:
            amount = rng.uniform(3e8, 3e9)
        elif band[i] < 0.18:
            amount = rng.uniform(1.5e8, 3e8)
        else:
            amount = min(np.exp(rng.normal(np.log(3e7), 1.0)), 1.45e8)
        sales.append(float(round(amount, -4)))
        codes.append(credit_code(rng, "corporate", site.region))
    kind = np.where(institution, "institution", "corporate").astype(object)
    columns: dict[str, list[object]] = {
        "kind": list(kind),
        "name": names,
        "branch_id": [sites[b].branch_id for b in branch_of],
        "open_date": _dates(opened),
        "birth_date": [None] * n,
        "id_number": codes,
        "phone": _blank(rng, list(mobiles(rng, n)), 0.3),
        "address": addresses(rng, city),
        "occupation": [None] * n,
        "annual_income": [None] * n,
        "risk_preference": _blank(rng, list(_choice(rng, ("C2", "C3", "C4"), n)), 0.2),
        "hobbies": [None] * n,
        "family": [None] * n,
        "preferred_channel": list(_choice(rng, ("visit", "phone", "branch", "email"), n)),
        "sector": sectors,
        "industry": industries,
        "annual_sales": sales,
        "listed_industry": listed,
    }
    activity = rng.beta(4.0, 2.0, n)
    return People(columns, opened, wealth, activity, kind)
