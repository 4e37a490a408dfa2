"""The Excel export, read back with openpyxl: names, headers, masks, types, splitting."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tierbook.report.excel import Sheet, about_sheet, write_workbook

RAW_ID = "11010519491231002X"
RAW_PHONE = "13812345678"
RAW_NAME = "张三丰"
RAW_ADDRESS = "北京市海淀区中关村大街27号"


def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["C001", "C002", "C003"],
            "name": [RAW_NAME, "李四", None],
            "id_number": [RAW_ID, "440524188001010014", None],
            "phone": [RAW_PHONE, None, "13900001111"],
            "address": [RAW_ADDRESS, "上海市浦东新区世纪大道100号", ""],
            "tier": ["钻石", "金卡", "普通"],
            "aum": [1_234_567.891, 150_000.0, float("nan")],
            "accounts": pd.array([3, 1, None], dtype="Int64"),
            "open_date": pd.to_datetime(["2019-03-01", "2024-12-31", None]),
            "birth_date": [dt.date(1949, 12, 31), dt.date(1988, 1, 1), None],
            "key_customer": [True, False, False],
            "why": ["年日均 1,234,567.89 ≥ 1,000,000 (钻石)", "=SUM(A1)", "x" * 10],
        }
    )


MASKS = {"name": "name", "id_number": "id", "phone": "phone", "address": "address"}


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("xlsx") / "out" / "report.xlsx"
    manifest = {
        "as_of": dt.date(2025, 12, 31),
        "rulebook": {"id": "bank-default", "version": "2025.1"},
        "customers": 3,
        "ladders": ["card_tiers", "branch_bands"],
    }
    summary = pd.DataFrame(
        {"tier": ["普通", "金卡", "钻石"], "customers": [1, 1, 1], "share": [1 / 3, 1 / 3, 1 / 3]}
    )
    write_workbook(
        path,
        [
            about_sheet(manifest),
            Sheet("tiers: card_tiers", "卡等级分布", summary, number_formats={"share": "0.0%"}),
            Sheet("customers", "客户分层明细", customers(), masked_columns=MASKS),
            Sheet("alerts", "", pd.DataFrame({"alert": pd.Series([], dtype=str)})),
        ],
    )
    return path


def _rows(ws) -> list[tuple]:
    return list(ws.iter_rows(values_only=True))


def test_sheet_names_are_valid_excel_names(workbook):
    wb = openpyxl.load_workbook(workbook)
    assert wb.sheetnames == ["说明／About", "tiers： card_tiers", "customers", "alerts"]


def test_title_row_then_header_row(workbook):
    ws = openpyxl.load_workbook(workbook)["customers"]
    rows = _rows(ws)
    assert rows[0][0] == "客户分层明细"
    assert list(rows[1]) == list(customers().columns)
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref == "A2:L5"
    # no title: the header is the first row
    alerts = openpyxl.load_workbook(workbook)["alerts"]
    assert _rows(alerts)[0] == ("alert",)


def test_personal_columns_are_masked(workbook):
    rows = _rows(openpyxl.load_workbook(workbook)["customers"])
    header = rows[1]
    first = dict(zip(header, rows[2], strict=True))
    assert first["id_number"] == "1101**********002X"
    assert first["phone"] == "138****5678"
    assert first["name"] == "张**"
    assert first["address"] == "北京市海淀区***"
    third = dict(zip(header, rows[4], strict=True))
    assert third["name"] is None
    assert third["id_number"] is None


def test_raw_personal_values_appear_nowhere_in_the_file(workbook):
    wb = openpyxl.load_workbook(workbook)
    cells = [str(c) for ws in wb.worksheets for row in _rows(ws) for c in row if c is not None]
    for raw in (RAW_ID, RAW_PHONE, RAW_NAME, RAW_ADDRESS, "440524188001010014"):
        assert not [c for c in cells if raw in c], raw
    with zipfile.ZipFile(workbook) as z:
        blob = b"".join(z.read(n) for n in z.namelist())
    for raw in (RAW_ID, RAW_PHONE, RAW_NAME, RAW_ADDRESS):
        assert raw.encode() not in blob, raw


def test_dates_are_dates_and_numbers_are_numbers(workbook):
    ws = openpyxl.load_workbook(workbook)["customers"]
    header = [c.value for c in ws[2]]
    row = dict(zip(header, ws[3], strict=True))
    assert row["open_date"].value == dt.datetime(2019, 3, 1)
    assert row["open_date"].is_date
    assert row["open_date"].number_format == "yyyy-mm-dd"
    assert row["birth_date"].value == dt.datetime(1949, 12, 31)
    assert row["birth_date"].is_date
    assert row["aum"].value == pytest.approx(1_234_567.891)
    assert row["aum"].number_format == "#,##0.00"
    assert row["accounts"].value == 3
    assert row["key_customer"].value is True
    assert row["why"].data_type == "s"
    formula = dict(zip(header, ws[4], strict=True))["why"]
    assert (formula.value, formula.data_type) == ("=SUM(A1)", "s")  # text, never a formula
    missing = {h: c.value for h, c in zip(header, ws[5], strict=True)}
    assert missing["aum"] is None
    assert missing["accounts"] is None
    assert missing["open_date"] is None


def test_number_format_override(workbook):
    ws = openpyxl.load_workbook(workbook)["tiers： card_tiers"]
    assert ws["C3"].value == pytest.approx(1 / 3)
    assert ws["C3"].number_format == "0.0%"
    assert ws["B3"].value == 1


def test_about_sheet_lists_the_manifest(workbook):
    rows = _rows(openpyxl.load_workbook(workbook)["说明／About"])
    assert rows[1] == ("key", "value")
    kv = dict(rows[2:])
    assert kv["as_of"] == dt.datetime(2025, 12, 31)
    assert kv["rulebook.id"] == "bank-default"
    assert kv["customers"] == 3
    assert kv["ladders"] == "card_tiers, branch_bands"


def test_cjk_columns_are_wider_than_latin_ones(tmp_path):
    frame = pd.DataFrame({"a": ["中国工商银行股份有限公司"], "b": ["abcdefghijkl"]})
    path = tmp_path / "w.xlsx"
    write_workbook(path, [Sheet("w", "", frame)])
    ws = openpyxl.load_workbook(path)["w"]
    wide, narrow = ws.column_dimensions["A"].width, ws.column_dimensions["B"].width
    assert wide >= 24 > narrow >= 12


def test_long_sheets_are_split_with_title_and_header_on_every_part(tmp_path):
    frame = pd.DataFrame({"n": range(10)})
    path = tmp_path / "split.xlsx"
    write_workbook(path, [Sheet("book", "staff book", frame)], max_rows=6)  # 4 data rows a part
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["book", "book (2)", "book (3)"]
    parts = [_rows(wb[n]) for n in wb.sheetnames]
    assert all(p[:2] == [("staff book",), ("n",)] for p in parts)
    assert [v for p in parts for (v,) in p[2:]] == list(range(10))


def test_duplicate_and_long_names_are_made_unique(tmp_path):
    long = "客户" * 20
    frame = pd.DataFrame({"x": [1]})
    path = tmp_path / "names.xlsx"
    write_workbook(path, [Sheet("A", "", frame), Sheet("a", "", frame), Sheet(long, "", frame)])
    names = openpyxl.load_workbook(path).sheetnames
    assert names == ["A", "a (2)", long[:31]]


def test_masking_an_absent_column_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not in the frame: id_number"):
        write_workbook(
            tmp_path / "x.xlsx",
            [Sheet("s", "", pd.DataFrame({"x": [1]}), masked_columns={"id_number": "id"})],
        )
