"""A rulebook is validated data: a bad one is refused with the YAML path and the reason."""

from __future__ import annotations

import pytest
import yaml

from tierbook.rules import RulebookError, load_preset, parse_rulebook, preset_names
from tierbook.rules.loader import preset_text


def _default() -> dict:
    return yaml.safe_load(preset_text("bank_default"))


def _problems(doc: dict) -> list[tuple[str, str]]:
    with pytest.raises(RulebookError) as info:
        parse_rulebook(yaml.safe_dump(doc, allow_unicode=True), source="test.yaml")
    return info.value.problems


def test_every_preset_loads_and_is_stamped_with_id_version_and_hash() -> None:
    assert {"bank_default", "bank_variant_pb8m", "bank_variant_pb10m", "retail_membership"} <= set(
        preset_names()
    )
    for name in preset_names():
        stamp = load_preset(name).stamp
        assert stamp["rulebook_id"] and stamp["rulebook_version"]
        assert len(stamp["rulebook_sha256"]) == 64


def test_non_increasing_threshold_names_ladder_level_and_both_values() -> None:
    doc = _default()
    doc["ladders"][0]["levels"][2]["min"] = 100000  # 白金 equal to 金卡
    [(path, reason)] = _problems(doc)
    assert path == "ladders.card_tiers.levels"
    assert "白金 (100000) must exceed 金卡 (100000)" in reason


def test_unknown_asset_class_is_refused() -> None:
    doc = _default()
    doc["asset_weights"]["crypto"] = 0.5
    [(path, _reason)] = _problems(doc)
    assert path == "asset_weights.crypto"


def test_loan_takes_no_weight() -> None:
    doc = _default()
    doc["asset_weights"]["loan"] = 1.0
    [(path, reason)] = _problems(doc)
    assert path == "asset_weights" and "loan is not AUM" in reason


def test_unknown_role_is_refused_with_its_path() -> None:
    doc = _default()
    doc["ladders"][1]["levels"][1]["roles"] = ["janitor"]
    [(path, _reason)] = _problems(doc)
    assert path == "ladders.branch_bands.levels[1].roles[0]"


def test_missing_field_is_named() -> None:
    doc = _default()
    del doc["version"]
    [(path, reason)] = _problems(doc)
    assert (path, reason) == ("version", "required field is missing")


def test_unknown_field_is_refused_not_ignored() -> None:
    doc = _default()
    doc["ladders"][0]["levels"][1]["minimum"] = 5
    [(path, reason)] = _problems(doc)
    assert (path, reason) == ("ladders.card_tiers.levels[1].minimum", "unknown field")


def test_first_level_must_start_at_zero() -> None:
    doc = _default()
    doc["ladders"][0]["levels"] = doc["ladders"][0]["levels"][1:]
    [(_, reason)] = _problems(doc)
    assert "must start at 0" in reason


def test_maintenance_must_reference_an_existing_ladder() -> None:
    doc = _default()
    doc["maintenance"]["band_ladder"] = "bands"
    [(_, reason)] = _problems(doc)
    assert "unknown ladder 'bands'" in reason


def test_weights_outside_zero_one_are_refused() -> None:
    doc = _default()
    doc["asset_weights"]["fund"] = 1.5
    [(_, reason)] = _problems(doc)
    assert "[0, 1]" in reason


def test_not_yaml_reports_line_and_column() -> None:
    with pytest.raises(RulebookError) as info:
        parse_rulebook("id: x\nladders: [\n", source="broken.yaml")
    assert "line" in info.value.problems[0][0]


def test_hash_ignores_comments_and_key_order() -> None:
    text = preset_text("bank_default")
    assert parse_rulebook("# a comment\n" + text).sha256 == load_preset().sha256
    doc = _default()
    reordered = {k: doc[k] for k in reversed(list(doc))}
    assert (
        parse_rulebook(yaml.safe_dump(reordered, allow_unicode=True)).sha256 == load_preset().sha256
    )


MY_BANK = """
extends: bank_default
id: my-bank
version: "1"
ladders:
  - id: card_tiers
    levels:
      - {name: 普通, min: 0}
"""


def test_a_rulebook_extending_a_preset_states_only_what_differs() -> None:
    text = (
        MY_BANK
        + """      - {name: 金卡, min: 80000}
      - {name: 白金, min: 300000}
      - {name: 黑金, min: 500000}
      - {name: 钻石, min: 1000000}
      - {name: 私人银行, min: 6000000}
maintenance:
  monthly_contact: {min_aum: 250000}
"""
    )
    mine = parse_rulebook(text).rulebook
    base = load_preset().rulebook
    card = mine.ladder("card_tiers")
    assert [lv.min for lv in card.levels] == [0, 80000, 300000, 500000, 1000000, 6000000]
    assert card.policy == base.ladder("card_tiers").policy  # the rest of the ladder is kept
    assert [lad.id for lad in mine.ladders] == [lad.id for lad in base.ladders]
    assert mine.maintenance is not None and base.maintenance is not None
    contact = base.maintenance.monthly_contact.model_copy(update={"min_aum": 250000})
    assert mine.maintenance == base.maintenance.model_copy(update={"monthly_contact": contact})
    assert mine.asset_weights == base.asset_weights


def test_extending_an_unknown_preset_is_refused_with_the_names_known() -> None:
    with pytest.raises(RulebookError) as info:
        parse_rulebook('extends: no_such\nid: x\nversion: "1"\n')
    [(path, reason)] = info.value.problems
    assert path == "extends"
    assert "no_such" in reason and "bank_default" in reason


def test_errors_in_an_extending_rulebook_name_the_merged_yaml_path() -> None:
    text = (
        MY_BANK
        + """      - {name: 金卡, min: 100000}
      - {name: 白金, min: 100000}
"""
    )
    with pytest.raises(RulebookError) as info:
        parse_rulebook(text)
    assert info.value.problems[0][0] == "ladders.card_tiers.levels"


def test_bank_presets_state_the_key_customer_rules_and_retail_has_none() -> None:
    for name in ("bank_default", "bank_variant_pb8m", "bank_variant_pb10m"):
        kc = load_preset(name).rulebook.key_customers
        assert kc is not None and kc.select.top_share == 0.2
        assert kc.concentration.split.top == 0.2 and kc.concentration.split.bottom == 0.2
    assert load_preset("retail_membership").rulebook.key_customers is None


def test_score_weights_must_add_up_to_one() -> None:
    doc = _default()
    doc["key_customers"]["score"]["weights"]["profit"] = 0.5
    [(path, reason)] = _problems(doc)
    assert path == "key_customers.score.weights"
    assert "add up to 1" in reason and "1.15" in reason


@pytest.mark.parametrize(
    ("where", "value", "path"),
    [
        (("select", "top_share"), 0, "key_customers.select.top_share"),
        (
            ("detectors", "bulk", "min_peak_ratio"),
            1.0,
            "key_customers.detectors.bulk.min_peak_ratio",
        ),
        (("detectors", "bulk", "measurement"), "daily", "key_customers.detectors.bulk.measurement"),
        (
            ("detectors", "high_volume_low_profit", "min_volume_pct"),
            1.5,
            "key_customers.detectors.high_volume_low_profit.min_volume_pct",
        ),
        (("detectors", "peeler", "min_ratio"), -1, "key_customers.detectors.peeler.min_ratio"),
        (("cross_sell", "roles", 0), "janitor", "key_customers.cross_sell.roles[0]"),
        (
            ("account_types", "advisory_products", 0),
            "crypto",
            "key_customers.account_types.advisory_products[0]",
        ),
    ],
)
def test_bad_key_customer_value_names_its_yaml_path(
    where: tuple[str | int, ...], value: object, path: str
) -> None:
    doc = _default()
    node = doc["key_customers"]
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    [(got, _reason)] = _problems(doc)
    assert got == path


def test_206020_split_must_leave_a_middle_group() -> None:
    doc = _default()
    doc["key_customers"]["concentration"]["split"] = {"top": 0.6, "bottom": 0.4}
    [(path, reason)] = _problems(doc)
    assert path == "key_customers.concentration.split" and "middle group" in reason


def test_key_customer_ladder_must_exist() -> None:
    doc = _default()
    doc["key_customers"]["ladder"] = "nope"
    [(_path, reason)] = _problems(doc)
    assert "key_customers.ladder: unknown ladder 'nope'" in reason
