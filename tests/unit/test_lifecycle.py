"""BG/NBD + Gamma-Gamma reproduce the published CDNOW estimates (Fader, Hardie & Lee 2005)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

from tests.e2e.helpers import tierbook
from tierbook.analytics.lifecycle import rfm_summary
from tierbook.batch.lifecycle import TransactionsFileError, read_transactions_file
from tierbook.domain import lifecycle as lc

DATA = Path(__file__).resolve().parents[1] / "data"
CALIBRATION_END = date(1997, 9, 30)
# "Counting your customers the easy way" (2005), section 5, and "RFM and CLV" (2005)
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_LL = -9582.4
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    t = pd.read_csv(DATA / "CDNOW_sample.txt", sep=r"\s+", header=None,
                    names=["customer_id", "sample_id", "date", "cds", "amount"],
                    dtype={"customer_id": str, "date": str})  # fmt: skip
    t["date"] = pd.to_datetime(t["date"], format="%Y%m%d").dt.date
    return t


@pytest.fixture(scope="module")
def summary(cdnow: pd.DataFrame) -> pd.DataFrame:
    table = ibis.memtable(cdnow[["customer_id", "date", "amount"]])
    return rfm_summary(table, CALIBRATION_END, 7.0).to_pandas()


def test_sample_has_2357_customers_and_6919_transactions(cdnow: pd.DataFrame) -> None:
    assert (cdnow["customer_id"].nunique(), len(cdnow)) == (2357, 6919)


def test_summary_reproduces_the_published_calibration_summary(
    cdnow: pd.DataFrame, summary: pd.DataFrame
) -> None:
    ref = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
    assert len(summary) == len(ref) == 2357
    # the reference's ID is the sample id (second column of the transactions file)
    sample_id = cdnow.groupby("customer_id")["sample_id"].first()
    summary = summary.assign(ID=summary["customer_id"].map(sample_id)).sort_values("ID")
    ref = ref.sort_values("ID")
    np.testing.assert_array_equal(summary["frequency"], ref["x"])
    np.testing.assert_allclose(summary["recency"], ref["t_x"], atol=0.006)
    np.testing.assert_allclose(summary["T"], ref["T"], atol=0.006)
    np.testing.assert_allclose(summary["monetary"], ref["zbar"], atol=0.006)


def test_bgnbd_reproduces_the_cdnow_estimates_to_two_decimals(summary: pd.DataFrame) -> None:
    m = lc.fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    for k, v in PUBLISHED_BGNBD.items():
        assert round(getattr(m, k), 2) == round(v, 2), k
    assert m.log_likelihood == pytest.approx(PUBLISHED_LL, abs=0.1)


def test_gamma_gamma_reproduces_the_cdnow_estimates_to_two_decimals(
    summary: pd.DataFrame,
) -> None:
    g = lc.fit_gamma_gamma(summary["frequency"], summary["monetary"])
    for k, v in PUBLISHED_GG.items():
        assert round(getattr(g, k), 2) == pytest.approx(v, abs=0.011), k


PAPER = lc.BgNbd(**PUBLISHED_BGNBD)


def test_conditional_expectation_of_the_papers_example_customer() -> None:
    # FHL 2005: x = 2, t_x = 30.43, T = 38.86 → E[Y(39)] = 1.226
    e = lc.expected_purchases(PAPER, 39.0, [2], [30.43], [38.86])
    assert e[0] == pytest.approx(1.226, abs=0.002)


def test_probability_alive_by_the_closed_form_written_plainly() -> None:
    r, al, a, b = PAPER.r, PAPER.alpha, PAPER.a, PAPER.b
    x, tx, T = 2, 30.43, 38.86
    plain = 1 / (1 + (a / (b + x - 1)) * ((al + T) / (al + tx)) ** (r + x))
    assert lc.probability_alive(PAPER, [x, 0], [tx, 0], [T, 38.86]) == pytest.approx([plain, 1])


def test_a_recent_buyer_is_more_alive_than_one_silent_since_long() -> None:
    p = lc.probability_alive(PAPER, [5, 5], [38.0, 5.0], [39.0, 39.0])
    assert p[0] > 0.8
    assert p[1] < 0.5


def test_new_customer_expectation_grows_with_the_horizon() -> None:
    e = [lc.expected_purchases_new(PAPER, t) for t in (13, 26, 39, 78)]
    assert e == sorted(e) and e[0] > 0


def test_expected_spend_shrinks_own_mean_towards_the_population_mean() -> None:
    g = lc.GammaGamma(**PUBLISHED_GG)
    population = g.p * g.gamma / (g.q - 1)
    spend = lc.expected_spend(g, [0, 1, 50], [0.0, 100.0, 100.0])
    assert spend[0] == pytest.approx(population)
    assert population < spend[1] < spend[2] < 100.0


def test_clv_is_the_discounted_sum_of_period_purchases_times_spend() -> None:
    x, tx, T = [3], [20.0], [30.0]
    clv = lc.lifetime_value(PAPER, [50.0], x, tx, T, periods=3, period_length=4.0,
                           discount_rate=0.1, margin=0.5)  # fmt: skip
    cum = [0.0] + [lc.expected_purchases(PAPER, 4.0 * k, x, tx, T)[0] for k in (1, 2, 3)]
    plain = sum((cum[k] - cum[k - 1]) * 50.0 * 0.5 / 1.1**k for k in (1, 2, 3))
    assert clv[0] == pytest.approx(plain)


def test_same_day_purchases_are_one_purchase_and_later_days_are_repeats() -> None:
    t = ibis.memtable(
        pd.DataFrame(
            {
                "customer_id": ["a", "a", "a", "b", "a"],
                "date": [date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 15), date(2024, 1, 8),
                         date(2024, 3, 1)],
                "amount": [10.0, 5.0, 30.0, 7.0, 99.0],
            }
        )
    )  # fmt: skip
    s = rfm_summary(t, date(2024, 1, 29), 7.0).to_pandas().set_index("customer_id")
    assert s.loc["a", ["frequency", "recency", "T", "monetary"]].tolist() == [1, 2.0, 4.0, 30.0]
    assert s.loc["b", ["frequency", "recency", "T", "monetary"]].tolist() == [0, 0.0, 3.0, 0.0]


def test_lifecycle_command_prints_the_cdnow_estimates_and_writes_results(
    cdnow: pd.DataFrame, tmp_path: Path
) -> None:
    src = tmp_path / "cdnow.csv"
    cdnow.rename(columns={"customer_id": "customer"})[["customer", "date", "amount"]].to_csv(
        src, index=False
    )
    out = tmp_path / "lifecycle.csv"
    text = tierbook("lifecycle", "--transactions", str(src), "--calibration-end", "1997-09-30",
                    "--out", str(out))  # fmt: skip
    assert "r=0.243 alpha=4.414 a=0.793 b=2.426" in text
    res = pd.read_csv(out, dtype={"customer_id": str})
    assert len(res) == 2357
    assert res["p_alive"].between(0, 1).all() and (res["clv"] >= 0).all()


def test_bad_transactions_file_names_line_and_field(tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    src.write_text("customer,date,amount\nA,2020-01-01,10\nB,2020-01-02,abc\n", encoding="utf-8")
    with pytest.raises(TransactionsFileError, match=r"line 3: field amount"):
        read_transactions_file(src)
    missing = tmp_path / "m.csv"
    missing.write_text("customer,amount\nA,1\n", encoding="utf-8")
    with pytest.raises(TransactionsFileError, match="missing column"):
        read_transactions_file(missing)
    output = tierbook("lifecycle", "--transactions", str(src), "--calibration-end", "2020-06-30",
                      expect=2)  # fmt: skip
    assert "field amount" in output
