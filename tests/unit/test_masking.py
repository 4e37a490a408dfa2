"""Masking of personal information (SPEC §5). Expected values written out by hand."""

from __future__ import annotations

import pytest

from tierbook.domain.masking import (
    DEFAULT_KINDS,
    columns_to_mask,
    mask_address,
    mask_credit_code,
    mask_full,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_value,
)


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("11010519491231002X", "1101**********002X"),
        ("440524188001010014", "4405**********0014"),
        (" 11010519491231002X ", "1101**********002X"),  # surrounding blanks dropped
        ("123456789012", "1234****9012"),  # 4 hidden: the minimum
        ("12345678901", "***********"),  # too short to keep 8 and hide 4: all hidden
        ("", ""),
    ],
)
def test_id_number_keeps_first_4_and_last_4(raw, masked):
    assert mask_id_number(raw) == masked


def test_credit_code_is_masked_like_an_id():
    assert mask_credit_code("91350100M000100Y43") == "9135**********0Y43"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("008613812345678", "138****5678"),
        ("8613812345678", "138****5678"),
        ("010-62345678", "010****5678"),
        ("12345", "*****"),
        ("", ""),
    ],
)
def test_phone_keeps_first_3_and_last_4(raw, masked):
    assert mask_phone(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [("张三丰", "张**"), ("张三", "张*"), ("欧阳娜娜", "欧***"), ("张", "*"), ("", "")],
)
def test_name_keeps_the_first_character(raw, masked):
    assert mask_name(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("北京市海淀区中关村大街27号", "北京市海淀区***"),
        ("广东省深圳市南山区科技园南区8栋", "广东省深圳市南山区***"),
        ("浙江省杭州市桐庐县城南街道1号", "浙江省杭州市桐庐县***"),
        ("东莞市南城街道宏图路88号", "东莞市南城街***"),  # no district: first 6 characters
        ("上海市阳光小区3栋", "上海市阳光小***"),  # 小区 is no district
        ("朝阳区", "朝***"),  # nothing beyond the district: at most half is shown
        ("", ""),
    ],
)
def test_address_keeps_up_to_the_district(raw, masked):
    assert mask_address(raw) == masked


def test_full_mask_and_mask_value():
    assert mask_full("anything") == "***"
    assert mask_value("id", None) is None
    assert mask_value("phone", 13812345678) == "138****5678"
    assert mask_value("phone", 13812345678.0) == "138****5678"
    assert mask_value("id", float("nan")) is None
    assert mask_value("name", "李四") == "李*"


def test_columns_to_mask_follows_column_order_and_hides_unknown_personal_columns_whole():
    columns = ["customer_id", "name", "branch_id", "id_number", "phone", "address", "notes"]
    personal = {"name", "id_number", "phone", "address", "notes", "not_in_frame"}
    assert columns_to_mask(columns, personal) == {
        "name": "name",
        "id_number": "id",
        "phone": "phone",
        "address": "address",
        "notes": "full",
    }
    assert DEFAULT_KINDS["id_number"] == "id"


def test_contract_personal_columns_all_have_a_known_mask():
    from tierbook.ingest.contract import TABLES

    personal = {c.name for t in TABLES for c in t.columns if c.personal}
    assert personal
    assert personal <= set(DEFAULT_KINDS)
