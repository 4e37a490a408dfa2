"""Corporate segmentation (SPEC §3.6) at its boundaries, and the two-axis scores."""

from __future__ import annotations

import pytest

from tests.mini_rulebook import MINIMAL_RULEBOOK
from tierbook.domain.segments import (
    Client,
    attractiveness,
    bank_value_to_client,
    percentile_scores,
    segment_of,
)
from tierbook.rules import parse_rulebook
from tierbook.rules.analyses import CorporateSegmentation, SegmentAxes

RULES = CorporateSegmentation(strategic=("S1",))
YI = 100_000_000  # 1亿
WAN = 10_000  # 1万


def firm(
    sales: float | None,
    *,
    listed: bool = False,
    sector: str | None = "traditional",
    cid: str = "C1",
    loan: bool = True,
    deposit: float = 0.0,
    kind: str = "corporate",
) -> Client:
    return Client(cid, kind, sector, sales, listed, loan, deposit)


@pytest.mark.parametrize(
    ("client", "size"),
    [
        (firm(3 * YI), "large"),
        (firm(3 * YI - 0.01), "medium"),
        (firm(1.5 * YI, listed=True), "large"),
        (firm(1.5 * YI - 0.01, listed=True), "medium"),
        (firm(1.5 * YI, listed=False), "medium"),
        (firm(2000 * WAN), "medium"),
        (firm(2000 * WAN - 0.01), "small"),
        (firm(10 * YI, cid="S1"), "strategic"),
        (firm(1.0, cid="S1"), "strategic"),
        (firm(None), "unknown"),
    ],
)
def test_traditional_corporates_are_layered_by_annual_sales(client: Client, size: str) -> None:
    assert segment_of(client, RULES).size == size


def test_customer_with_annual_sales_of_exactly_300_million_is_large() -> None:
    assert segment_of(firm(300_000_000), RULES).size == "large"


def test_listed_industry_client_at_exactly_150_million_is_large() -> None:
    assert segment_of(firm(150_000_000, listed=True), RULES).size == "large"


@pytest.mark.parametrize("sector", ["emerging", "real_estate"])
def test_only_traditional_corporates_are_layered_by_size(sector: str) -> None:
    s = segment_of(firm(5 * YI, sector=sector), RULES)
    assert (s.sector, s.size) == (sector, None)


def test_institutions_have_no_sector_or_size() -> None:
    s = segment_of(firm(None, kind="institution", sector="government"), RULES)
    assert (s.kind, s.sector, s.size) == ("institution", None, None)


@pytest.mark.parametrize(
    ("deposit", "band"), [(500_000, "above"), (499_999.99, "below"), (3_000_000, "above")]
)
def test_without_loan_clients_split_at_the_500k_daily_average_deposit(
    deposit: float, band: str
) -> None:
    s = segment_of(firm(1 * YI, loan=False, deposit=deposit), RULES)
    assert (s.loan, s.deposit_band) == ("without_loan", band)


def test_with_loan_clients_have_no_deposit_band_and_labels_read_in_chinese() -> None:
    with_loan = segment_of(firm(3 * YI), RULES)
    without = segment_of(firm(3 * YI, loan=False, deposit=600_000), RULES)
    assert with_loan.deposit_band is None
    assert with_loan.label(RULES.deposit_line) == "有贷/公司/传统/大型"
    assert without.label(RULES.deposit_line) == "无贷/公司/传统/大型/日均≥50万"


def test_unknown_sector_is_unclassified() -> None:
    assert segment_of(firm(1 * YI, sector=None), RULES).sector == "unclassified"


def test_percentile_scores_rank_with_shared_ties() -> None:
    assert percentile_scores([10.0, 30.0, 20.0, 20.0, 40.0]) == [0.0, 0.75, 0.375, 0.375, 1.0]
    assert percentile_scores([7.0]) == [0.5]


def test_axes_are_weighted_means_of_their_parts() -> None:
    axes = SegmentAxes(share_of_wallet=2, product_coverage=1, tenure=1, activity=0, growth=0,
                       bank_to_client=1, client_to_bank=3)  # fmt: skip
    scores = {"share_of_wallet": 1.0, "product_coverage": 0.5, "tenure": 0.0, "activity": 1.0,
              "growth": 1.0}  # fmt: skip
    assert bank_value_to_client(scores, axes) == pytest.approx((2 * 1.0 + 0.5 + 0.0) / 4)
    assert attractiveness(0.2, 0.6, axes) == pytest.approx((0.2 + 3 * 0.6) / 4)


def test_sales_lines_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="medium_sales"):
        parse_rulebook(MINIMAL_RULEBOOK + "corporate_segments: {medium_sales: 200000000}\n")
