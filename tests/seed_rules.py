"""Tier thresholds as the seeds and SPEC §3.2 state them (CNY), typed here independently of
the presets, so tests compare the code with the source documents, not with itself."""

SEED_LADDERS: dict[tuple[str, str], list[tuple[str, float]]] = {
    ("bank_default", "card_tiers"): [
        ("普通", 0),
        ("金卡", 100_000),
        ("白金", 300_000),
        ("黑金", 500_000),
        ("钻石", 1_000_000),
        ("私人银行", 6_000_000),
    ],
    ("bank_variant_pb8m", "card_tiers"): [
        ("普通", 0),
        ("金卡", 50_000),
        ("白金", 200_000),
        ("黑金", 500_000),
        ("钻石", 2_000_000),
        ("私人银行", 8_000_000),
    ],
    ("bank_variant_pb10m", "card_tiers"): [
        ("普通", 0),
        ("金卡", 50_000),
        ("白金", 200_000),
        ("黑金", 500_000),
        ("钻石", 2_000_000),
        ("私人银行", 10_000_000),
    ],
    ("bank_default", "branch_bands"): [
        ("未维护", 0),
        ("0.1-5万", 1_000),
        ("5-20万", 50_000),
        ("20-50万", 200_000),
        ("50-300万", 500_000),
        ("300万+", 3_000_000),
    ],
    ("retail_membership", "membership"): [
        ("普通会员", 0),
        ("高级会员", 2_000),
        ("VIP会员", 4_000),
        ("至尊VIP", 8_000),
    ],
}
