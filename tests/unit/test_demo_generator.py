"""Rules the demo bank generator keeps, checked against independent recomputations."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from tierbook.demo import cases, wealth
from tierbook.demo.generator import generate
from tierbook.ingest import contract
from tierbook.rules.loader import load_preset

YEAR = 2025
DAYS = 365


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(out, customers=600, corporates=30, seed=11, year=YEAR)
    return out


def _csv(bank: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(bank / f"{name}.csv", dtype=str, keep_default_na=False)


def _parquet(bank: Path, name: str) -> pd.DataFrame:
    df = pq.read_table(bank / name).to_pandas()
    df["day"] = (pd.to_datetime(df["date"]) - pd.Timestamp(f"{YEAR}-01-01")).dt.days.astype(int)
    return df


def _daily_matrix(bank: Path, accounts: list[str]) -> np.ndarray:
    row = {a: i for i, a in enumerate(accounts)}
    daily = _parquet(bank, "balances_daily")
    daily = daily[daily["account_id"].isin(row)]
    m = np.zeros((len(accounts), DAYS))
    m[daily["account_id"].map(row).to_numpy(), daily["day"].to_numpy()] = daily[
        "balance"
    ].to_numpy()
    return m


# --- identities, independently re-implemented from the standards ---------------------------


def _gb11643_ok(v: str) -> bool:
    weights = [2 ** (17 - i) % 11 for i in range(17)]  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
    total = sum(int(c) * w for c, w in zip(v[:17], weights, strict=True))
    return bool(re.fullmatch(r"\d{17}[\dX]", v)) and "10X98765432"[total % 11] == v[17]


def _gb32100_ok(v: str) -> bool:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [3**i % 31 for i in range(17)]  # 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28
    if len(v) != 18 or any(c not in alphabet for c in v):
        return False
    total = sum(alphabet.index(c) * w for c, w in zip(v[:17], weights, strict=True))
    return alphabet[(31 - total % 31) % 31] == v[17]


def test_every_resident_id_passes_the_gb11643_check(bank: Path) -> None:
    people = _csv(bank, "customers").query("kind == 'individual'")
    assert len(people) == 600
    assert all(_gb11643_ok(v) for v in people["id_number"])


def test_resident_id_birth_date_equals_birth_date(bank: Path) -> None:
    people = _csv(bank, "customers").query("kind == 'individual'")
    known = people[people["birth_date"] != ""]
    assert 0.9 * len(people) < len(known) < len(people), "some birthdays are missing on purpose"
    encoded = known["id_number"].str[6:14]
    assert (encoded == known["birth_date"].str.replace("-", "")).all()


def test_every_credit_code_passes_the_gb32100_check(bank: Path) -> None:
    firms = _csv(bank, "customers").query("kind != 'individual'")
    assert len(firms) == 30
    assert all(_gb32100_ok(v) for v in firms["id_number"])


def test_phones_are_mainland_mobiles_after_stripping_separators(bank: Path) -> None:
    phones = _csv(bank, "customers")["phone"]
    given = phones[phones != ""]
    assert len(given) < len(phones), "some phones are missing on purpose"
    assert given.str.startswith("+86").any()
    assert given.str.contains(" ").any()
    bare = given.str.replace(r"[\s\-]", "", regex=True).str.replace(
        r"^(\+86|0086|86)(?=1\d{10}$)", "", regex=True
    )
    assert bare.str.fullmatch(r"1[3-9]\d{9}").all()


# --- the contract ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "table", ["branches", "staff", "customers", "accounts", "income", "referrals"]
)
def test_csv_header_is_the_contract_column_list(bank: Path, table: str) -> None:
    header = (bank / f"{table}.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.replace('"', "").split(",") == list(contract.TABLES_BY_NAME[table].names)


def test_parquet_columns_and_types(bank: Path) -> None:
    for name in ("balances_daily", "balance_events"):
        schema = pq.read_schema(next((bank / name).glob("part-*.parquet")))
        assert [(f.name, str(f.type)) for f in schema] == [
            ("account_id", "string"),
            ("date", "date32[day]"),
            ("balance", "double"),
        ]
    schema = pq.read_schema(next((bank / "transactions").glob("part-*.parquet")))
    assert schema.names == list(contract.TRANSACTIONS.names)


def test_every_enum_value_is_in_the_contract_value_set(bank: Path) -> None:
    checks = {
        "customers": ("kind", "risk_preference", "preferred_channel", "sector"),
        "accounts": ("product_type",),
        "staff": ("role",),
    }
    for table, cols in checks.items():
        df = _csv(bank, table)
        for col in cols:
            allowed = set(contract.TABLES_BY_NAME[table].column(col).enum) | {""}
            assert set(df[col]) <= allowed, (table, col)
    tx = _parquet(bank, "transactions")
    assert set(tx["direction"]) == set(contract.DIRECTIONS)
    assert set(tx["channel"]) <= set(contract.TXN_CHANNELS)
    assert set(tx["counterparty_type"]) <= set(contract.COUNTERPARTY_TYPES)
    assert (tx["amount"] > 0).all()


def test_references_point_at_existing_rows(bank: Path) -> None:
    customers = set(_csv(bank, "customers")["customer_id"])
    accounts = _csv(bank, "accounts")
    assert set(accounts["customer_id"]) <= customers
    assert set(_csv(bank, "customers")["branch_id"]) <= set(_csv(bank, "branches")["branch_id"])
    ids = set(accounts["account_id"])
    for name in ("balances_daily", "balance_events", "transactions"):
        assert set(_parquet(bank, name)["account_id"]) <= ids


def test_referrals_reference_existing_earlier_customers(bank: Path) -> None:
    customers = _csv(bank, "customers").set_index("customer_id")
    refs = _csv(bank, "referrals")
    assert len(refs) > 5
    assert set(refs["referrer_id"]) | set(refs["referred_id"]) <= set(customers.index)
    assert (refs["referrer_id"] != refs["referred_id"]).all()
    assert not refs.duplicated(["referrer_id", "referred_id"]).any()
    opened = customers["open_date"]
    assert (opened[refs["referrer_id"]].to_numpy() < opened[refs["referred_id"]].to_numpy()).all()


def test_every_branch_has_every_role_and_head_office_has_personal_banking(bank: Path) -> None:
    staff = _csv(bank, "staff")
    branch_roles = set(contract.ROLES) - {"personal_banking"}
    for _, group in staff[staff["branch_id"] != ""].groupby("branch_id"):
        assert set(group["role"]) == branch_roles
    head = staff[staff["branch_id"] == ""]
    assert len(head) == 2
    assert set(head["role"]) == {"personal_banking"}
    assert 1 <= (staff["end_date"] != "").sum() <= 2
    assert (staff["capacity"].astype(int) > 0).all()


# --- balances -------------------------------------------------------------------------------


def test_daily_and_event_forms_give_the_same_balance_on_every_account_day(bank: Path) -> None:
    accounts = sorted(_csv(bank, "accounts")["account_id"])
    daily = _daily_matrix(bank, accounts)
    events = _parquet(bank, "balance_events").sort_values(["account_id", "day"])
    from_events = np.zeros_like(daily)
    row = {a: i for i, a in enumerate(accounts)}
    for acct, group in events.groupby("account_id", sort=False):
        days = group["day"].to_numpy()
        bal = group["balance"].to_numpy()
        ends = np.r_[days[1:], DAYS]
        for d0, d1, b in zip(days, ends, bal, strict=True):
            from_events[row[acct], d0:d1] = b
    assert np.array_equal(daily, from_events)


def test_balances_are_non_negative_cents_and_events_are_real_changes(bank: Path) -> None:
    for name in ("balances_daily", "balance_events"):
        bal = _parquet(bank, name)["balance"].to_numpy()
        assert (bal >= 0).all()
        assert np.allclose(np.round(bal, 2), bal, rtol=0, atol=1e-9)
    ev = _parquet(bank, "balance_events").sort_values(["account_id", "day"])
    same_acct = ev["account_id"].to_numpy()[1:] == ev["account_id"].to_numpy()[:-1]
    same_bal = ev["balance"].to_numpy()[1:] == ev["balance"].to_numpy()[:-1]
    assert not (same_acct & same_bal).any()


def test_accounts_open_and_close_inside_the_year_where_they_say(bank: Path) -> None:
    accounts = _csv(bank, "accounts")
    first = _parquet(bank, "balance_events").groupby("account_id")["day"].agg(["min", "max"])
    opened = pd.to_datetime(accounts.set_index("account_id")["open_date"])
    start = ((opened - pd.Timestamp(f"{YEAR}-01-01")).dt.days).clip(lower=0)
    assert (first["min"] == start[first.index]).all()
    closed = accounts[accounts["close_date"] != ""].set_index("account_id")["close_date"]
    assert len(closed) > 0
    assert (accounts["maturity_date"] != "").any()
    ev = _parquet(bank, "balance_events").set_index(["account_id", "date"])["balance"]
    for acct, day in closed.items():
        assert ev[(acct, date.fromisoformat(day))] == 0.0


def test_deposit_transactions_net_to_each_days_balance_change(bank: Path) -> None:
    accounts = _csv(bank, "accounts")
    deposit = accounts[accounts["product_type"].isin(["demand_deposit", "time_deposit"])]
    ids = sorted(accounts["account_id"])
    daily = _daily_matrix(bank, ids)
    change = np.diff(np.c_[np.zeros(len(ids)), daily], axis=1)
    pre_year = (accounts.set_index("account_id").loc[ids, "open_date"] < f"{YEAR}-01-01").to_numpy()
    change[pre_year, 0] = 0.0
    tx = _parquet(bank, "transactions")
    signed = np.where(tx["direction"] == "in", tx["amount"], -tx["amount"])
    row = {a: i for i, a in enumerate(ids)}
    flow = np.zeros_like(daily)
    np.add.at(flow, (tx["account_id"].map(row).to_numpy(), tx["day"].to_numpy()), signed)
    dep = np.isin(ids, deposit["account_id"])
    assert np.allclose(flow[dep], change[dep], atol=0.005)
    assert not flow[~dep].any(), "only deposit accounts have transactions"


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    def files(out: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
        }

    a = files((generate(tmp_path / "a", customers=200, corporates=5, seed=3)).out)
    b = files((generate(tmp_path / "b", customers=200, corporates=5, seed=3)).out)
    c = files((generate(tmp_path / "c", customers=200, corporates=5, seed=4)).out)
    assert a == b
    assert a["customers.csv"] != c["customers.csv"]


# --- planted cases --------------------------------------------------------------------------


def test_every_label_names_an_existing_individual_and_every_case_is_planted(bank: Path) -> None:
    labels = _csv(bank, "truth/labels")
    customers = _csv(bank, "customers").set_index("customer_id")
    assert set(labels["label"]) == set(cases.CASES)
    assert set(labels["customer_id"]) <= set(customers.index)
    assert (customers.loc[labels["customer_id"], "kind"] == "individual").all()
    assert not labels["customer_id"].duplicated().any()
    assert (labels["detail"] != "").all()


def _monthly_weighted(bank: Path, customer: str) -> np.ndarray:
    accounts = _csv(bank, "accounts")
    mine = accounts[accounts["customer_id"] == customer]
    m = _daily_matrix(bank, list(mine["account_id"]))
    w = (
        mine["product_type"]
        .map({"demand_deposit": 1.0, "time_deposit": 1.0, "loan": 0.0})
        .fillna(0.5)
    )
    total = (m * w.to_numpy()[:, None]).sum(axis=0)
    month = pd.date_range(f"{YEAR}-01-01", periods=DAYS).month.to_numpy() - 1
    return np.bincount(month, total) / np.bincount(month), total


def _of(bank: Path, label: str) -> list[str]:
    labels = _csv(bank, "truth/labels")
    return list(labels.loc[labels["label"] == label, "customer_id"])


def test_near_threshold_customers_rise_to_within_ten_percent_below_a_card_tier(bank: Path) -> None:
    levels = [lv.min for lv in load_preset().rulebook.ladder("card_tiers").levels if lv.min > 0]
    for cust in _of(bank, "near_threshold_rising"):
        avg, _ = _monthly_weighted(bank, cust)
        t = min(x for x in levels if x > avg[11])
        assert 0.9 * t <= avg[11] < t
        assert avg[9] < avg[10] < avg[11]
        assert (avg < t).all()


def test_window_dressing_balance_is_parked_over_quarter_ends(bank: Path) -> None:
    quarter_ends = [89, 180, 272]  # 31 Mar, 30 Jun, 30 Sep (day of year − 1)
    for cust in _of(bank, "window_dressing"):
        _, total = _monthly_weighted(bank, cust)
        for e in quarter_ends:
            assert total[e] > 10 * total[e - 10]
            assert total[e + 3] < total[e] / 10


def test_peelers_take_more_concessions_than_they_contribute_every_month(bank: Path) -> None:
    inc = _csv(bank, "income").set_index("customer_id")
    num = inc[["net_interest", "fees", "fee_waivers", "rate_premium"]].astype(float)
    for cust in _of(bank, "peeler"):
        r = num.loc[[cust]]
        assert ((r.fee_waivers + r.rate_premium) > (r.net_interest + r.fees)).all()
    others = num.drop(index=list(set(_of(bank, "peeler"))))
    assert ((others.fee_waivers + others.rate_premium) <= (others.net_interest + others.fees)).all()


def test_high_volume_customers_turn_over_far_more_than_they_hold(bank: Path) -> None:
    accounts = _csv(bank, "accounts")
    tx = _parquet(bank, "transactions").merge(
        accounts[["account_id", "customer_id"]], on="account_id"
    )
    volume = tx.groupby("customer_id")["amount"].sum()
    for cust in _of(bank, "high_volume_low_profit"):
        avg, _ = _monthly_weighted(bank, cust)
        assert volume[cust] > 20 * avg.mean()


def test_churners_end_the_year_far_below_their_first_half(bank: Path) -> None:
    for cust in _of(bank, "churner_decline") + _of(bank, "churner_transfer_out"):
        avg, _ = _monthly_weighted(bank, cust)
        assert avg[11] < 0.5 * avg[:5].mean()


def test_steady_large_customers_are_large_and_steady(bank: Path) -> None:
    for cust in _of(bank, "steady_large"):
        avg, total = _monthly_weighted(bank, cust)
        assert avg.min() >= 1_000_000
        assert avg.max() < 1.1 * avg.min()
        assert total.max() < 1.2 * total.min()


# --- wealth distribution --------------------------------------------------------------------


def test_expected_tier_shares_look_like_a_retail_bank() -> None:
    shares = {
        t: wealth.share_at_least(t)
        for t in (50_000, 100_000, 500_000, 1_000_000, 3_000_000, 6_000_000)
    }
    assert shares[50_000] < 0.25, "most customers are below 5万"
    assert 0.10 <= shares[100_000] <= 0.15
    assert 0.02 <= shares[500_000] <= 0.05
    assert 0.007 <= shares[1_000_000] <= 0.02
    assert 20_000 * shares[3_000_000] >= 20
    assert 20_000 * shares[6_000_000] >= 5
    card = [lv.min for lv in load_preset().rulebook.ladder("card_tiers").levels]
    assert sum(wealth.tier_shares(card)) == pytest.approx(1.0)


@pytest.mark.parametrize("ladder", ["card_tiers", "branch_bands"])
def test_sampled_wealth_populates_every_level_of_the_ladder(ladder: str) -> None:
    mins = [lv.min for lv in load_preset().rulebook.ladder(ladder).levels]
    rng = np.random.default_rng(7)
    for n in (200, 5000):
        counts = np.bincount(
            np.searchsorted(mins, wealth.sample_wealth(rng, n), side="right") - 1,
            minlength=len(mins),
        )
        assert (counts >= 1).all(), (n, counts)


def test_accounts_open_on_or_after_their_customer_and_mature_after_opening(bank: Path) -> None:
    customers = _csv(bank, "customers").set_index("customer_id")["open_date"]
    accounts = _csv(bank, "accounts")
    assert (accounts["open_date"].to_numpy() >= customers[accounts["customer_id"]].to_numpy()).all()
    matured = accounts[accounts["maturity_date"] != ""]
    assert (matured["maturity_date"] > matured["open_date"]).all()


def test_progress_reports_every_chunk(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    summary = generate(tmp_path, customers=50, corporates=2, progress=lambda *a: seen.append(a))
    assert seen[-1][1] == seen[-1][2]
    assert summary.rows["customers"] == 52
    assert summary.paths["balances_daily"] == tmp_path / "balances_daily"
