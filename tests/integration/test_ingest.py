"""Ingest rules: every bad row is set aside with file, line, code and reason; no good row is
lost; loading twice changes nothing. Malformed files are generated in ``tmp_path``."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import ibis
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tierbook.ingest import stage as stage_module
from tierbook.ingest.contract import TABLES_BY_NAME
from tierbook.ingest.dataset import Dataset, load_dataset
from tierbook.ingest.docs import render_markdown
from tierbook.ingest.quarantine import ERROR_CODES, IngestError, write_quarantine

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
REPO = Path(__file__).resolve().parents[2]


def resident_id(body: str) -> str:
    """A valid resident ID: the check digit computed by hand from GB 11643-1999's weights."""
    total = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


ID_C3 = resident_id("35010219800101001")  # born 1980-01-01


def base_rows() -> dict[str, list[dict[str, str]]]:
    """A small valid bank; tests append or replace rows to break it."""
    return {
        "branches": [
            {"branch_id": "B01", "name": "总行营业部", "city": "福州"},
            {"branch_id": "B02", "name": "East", "city": ""},
        ],
        "staff": [
            {
                "staff_id": "S1",
                "name": "Wang",
                "branch_id": "B01",
                "role": "rm",
                "capacity": "100",
                "start_date": "2020-01-01",
                "end_date": "",
            },
            {
                "staff_id": "S2",
                "name": "Li",
                "branch_id": "",
                "role": "personal_banking",
                "capacity": "50",
                "start_date": "2020-01-01",
                "end_date": "",
            },
        ],
        "customers": [
            {
                "customer_id": "C1",
                "kind": "individual",
                "name": "张三",
                "branch_id": "B01",
                "open_date": "2020-01-01",
                "birth_date": "1949-12-31",
                "id_number": "11010519491231002x",
                "phone": "+86 138-0013-8000",
                "annual_income": "1,200,000.50",
                "listed_industry": "",
                "risk_preference": "C3",
            },
            {
                "customer_id": "C2",
                "kind": "corporate",
                "name": "ACME",
                "branch_id": "B02",
                "open_date": "2020/02/03",
                "birth_date": "",
                "id_number": "91350100M000100Y43",
                "phone": "",
                "annual_income": "",
                "listed_industry": "是",
                "risk_preference": "",
            },
            {
                "customer_id": "C3",
                "kind": "individual",
                "name": "李四",
                "branch_id": "B02",
                "open_date": "2021-05-06",
                "birth_date": "",
                "id_number": ID_C3,
                "phone": "13912345678",
                "annual_income": "",
                "listed_industry": "",
                "risk_preference": "",
            },
        ],
        "accounts": [
            {
                "account_id": "A1",
                "customer_id": "C1",
                "product_type": "demand_deposit",
                "open_date": "2020-01-01",
                "maturity_date": "",
                "close_date": "",
            },
            {
                "account_id": "A2",
                "customer_id": "C2",
                "product_type": "time_deposit",
                "open_date": "2020-01-01",
                "maturity_date": "2021-01-01",
                "close_date": "",
            },
            {
                "account_id": "A3",
                "customer_id": "C3",
                "product_type": "fund",
                "open_date": "2021-05-06",
                "maturity_date": "",
                "close_date": "",
            },
        ],
        "balances_daily": [
            {"account_id": "A1", "date": "2025-01-01", "balance": "100"},
            {"account_id": "A1", "date": "2025-01-02", "balance": "150.5"},
            {"account_id": "A2", "date": "2025-01-01", "balance": "0"},
            {"account_id": "A3", "date": "2025-01-01", "balance": "900000"},
        ],
        "transactions": [
            {
                "txn_id": "T1",
                "account_id": "A1",
                "date": "2025-01-02",
                "amount": "50.5",
                "direction": "in",
                "channel": "mobile",
                "counterparty_type": "salary",
            },
        ],
        "income": [
            {
                "customer_id": "C1",
                "month": "2025-01",
                "net_interest": "-3.5",
                "fees": "10",
                "fee_waivers": "0",
                "rate_premium": "1",
            },
        ],
        "referrals": [{"referrer_id": "C1", "referred_id": "C3", "date": "2021-05-06"}],
        "purchases": [
            {"purchase_id": "P1", "customer_id": "C3", "date": "2025-03-01", "amount": "1999"}
        ],
    }


def write_csv(path: Path, rows: list[dict[str, str]], *, bom: bool = False) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_bank(data_dir: Path, rows: dict[str, list[dict[str, str]]], **formats: str) -> Path:
    """Each table as CSV, or as ``formats[table]`` ("parquet")."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for table, table_rows in rows.items():
        if formats.get(table) == "parquet":
            pq.write_table(pa.Table.from_pylist(table_rows), data_dir / f"{table}.parquet")
        else:
            write_csv(data_dir / f"{table}.csv", table_rows)
    return data_dir


def load(data_dir: Path, **kwargs: object) -> Dataset:
    return load_dataset(data_dir, ibis.duckdb.connect(), **kwargs)


def load_rows(tmp_path: Path, rows: dict, **formats: str) -> Dataset:
    return load(write_bank(tmp_path / "bank", rows, **formats))


def codes(ds: Dataset, table: str, line: int) -> set[str]:
    q = ds.quarantine
    return set(q[(q["table"] == table) & (q["line"] == line)]["code"])


def clean_ids(ds: Dataset, table: str, column: str) -> set[str]:
    return set(ds.tables[table][column].to_pandas())


def assert_invariant(ds: Dataset) -> None:
    for rec in ds.files:
        assert rec.rows_loaded + rec.rows_quarantined == rec.rows_read, rec
    for name, expr in ds.tables.items():
        loaded = sum(r.rows_loaded for r in ds.files if r.table == name)
        assert expr.count().execute() == loaded, name


# --- a valid bank -------------------------------------------------------------------------


def test_valid_bank_loads_every_row_typed(tmp_path):
    ds = load_rows(tmp_path, base_rows())
    assert ds.quarantine.empty
    assert ds.balance_form == "daily"
    assert_invariant(ds)
    customers = ds.tables["customers"].to_pandas().set_index("customer_id")
    assert customers.loc["C1", "id_number"] == "11010519491231002X"
    assert customers.loc["C1", "phone"] == "13800138000"
    assert customers.loc["C1", "annual_income"] == pytest.approx(1_200_000.5)
    assert str(customers.loc["C2", "open_date"])[:10] == "2020-02-03"
    assert bool(customers.loc["C2", "listed_industry"]) is True
    schema = ds.tables["balances_daily"].schema()
    assert str(schema["date"]) == "date"
    assert str(schema["balance"]) == "float64"
    assert str(ds.tables["staff"].schema()["capacity"]) == "int64"


def test_optional_tables_may_be_absent_and_other_files_are_ignored(tmp_path):
    rows = base_rows()
    for optional in ("transactions", "income", "referrals", "purchases"):
        del rows[optional]
    data_dir = write_bank(tmp_path / "bank", rows)
    (data_dir / "truth").mkdir()
    (data_dir / "truth" / "tiers.csv").write_text("x\n1\n")
    ds = load(data_dir)
    assert set(ds.tables) == {"branches", "staff", "customers", "accounts", "balances_daily"}


def test_csv_with_byte_order_mark_reads_the_first_header(tmp_path):
    data_dir = write_bank(tmp_path / "bank", base_rows())
    write_csv(data_dir / "branches.csv", base_rows()["branches"], bom=True)
    ds = load(data_dir)
    assert clean_ids(ds, "branches", "branch_id") == {"B01", "B02"}


def test_loading_twice_gives_identical_clean_tables(tmp_path):
    data_dir = write_bank(tmp_path / "bank", base_rows())
    con = ibis.duckdb.connect()
    first, second = load_dataset(data_dir, con), load_dataset(data_dir, con)
    for name in first.tables:
        a = first.tables[name].to_pandas().sort_values(list(first.tables[name].columns))
        b = second.tables[name].to_pandas().sort_values(list(second.tables[name].columns))
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    assert [f.sha256 for f in first.files] == [f.sha256 for f in second.files]


def test_events_form_is_loaded_when_asked(tmp_path):
    rows = base_rows()
    rows["balance_events"] = rows["balances_daily"]
    ds = load_rows(tmp_path, rows)
    assert ds.balance_form == "daily"
    events = load(tmp_path / "bank", balances="events")
    assert events.balance_form == "events"
    assert "balances_daily" not in events.tables
    assert events.balances.count().execute() == 4


# --- row errors of the small tables -------------------------------------------------------


def broken_customer(**changes: str) -> dict[str, list[dict[str, str]]]:
    """The base bank plus customer C9 (line 5 of customers.csv) with ``changes``."""
    rows = base_rows()
    c9 = {**rows["customers"][2], "customer_id": "C9", **changes}
    rows["customers"].append(c9)
    return rows


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"name": ""}, "REQUIRED"),
        ({"open_date": "2021-13-01"}, "BAD_DATE"),
        ({"open_date": "06/05/2021"}, "BAD_DATE"),
        ({"annual_income": "lots"}, "BAD_NUMBER"),
        ({"annual_income": "NaN"}, "BAD_NUMBER"),
        ({"annual_income": "inf"}, "BAD_NUMBER"),
        ({"listed_industry": "maybe"}, "BAD_BOOL"),
        ({"kind": "person"}, "BAD_ENUM"),
        ({"risk_preference": "C9"}, "BAD_ENUM"),
        ({"id_number": "3501021980010100"}, "ID_FORMAT"),
        ({"id_number": ID_C3[:-1] + ("0" if ID_C3[-1] != "0" else "1")}, "ID_CHECKSUM"),
        ({"id_number": resident_id("35010219800231001")}, "ID_BIRTHDATE"),
        ({"birth_date": "1980-01-02"}, "BIRTHDATE_MISMATCH"),
        ({"kind": "corporate", "id_number": "91350100M000100Y4"}, "USCC_FORMAT"),
        ({"kind": "institution", "id_number": "91350100M000100Y44"}, "USCC_CHECKSUM"),
        ({"phone": "0591-87654321"}, "MOBILE_FORMAT"),
        ({"branch_id": "B99"}, "UNKNOWN_REFERENCE"),
    ],
)
def test_bad_customer_is_quarantined_with_line_number(tmp_path, changes, code):
    ds = load_rows(tmp_path, broken_customer(**changes))
    assert code in codes(ds, "customers", 5)
    line = ds.quarantine[ds.quarantine["code"] == code].iloc[0]
    assert line["file"] == "customers.csv"
    assert pd.isna(line["sheet"])
    assert "C9" not in clean_ids(ds, "customers", "customer_id")
    assert {"C1", "C2", "C3"} <= clean_ids(ds, "customers", "customer_id")
    assert_invariant(ds)


def test_customer_with_bad_id_checksum_is_quarantined_with_line_number(tmp_path):
    ds = load_rows(tmp_path, broken_customer(id_number="110105194912310021"))
    assert codes(ds, "customers", 5) == {"ID_CHECKSUM"}


def test_pilot_credit_code_failing_the_check_is_held_for_review(tmp_path):
    ds = load_rows(tmp_path, broken_customer(kind="corporate", id_number="91350100M000100Y44"))
    reason = ds.quarantine.query("code == 'USCC_CHECKSUM'")["reason"].iloc[0]
    assert "pilot" in reason
    assert "review" in reason


def test_row_gets_every_error_but_is_counted_once(tmp_path):
    ds = load_rows(tmp_path, broken_customer(name="", kind="person", open_date="x"))
    assert codes(ds, "customers", 5) == {"REQUIRED", "BAD_ENUM", "BAD_DATE"}
    record = next(r for r in ds.files if r.table == "customers")
    assert (record.rows_read, record.rows_loaded, record.rows_quarantined) == (4, 3, 1)


def test_quarantine_reasons_hold_no_raw_personal_data(tmp_path):
    bad_id = ID_C3[:-1] + ("0" if ID_C3[-1] != "0" else "1")
    rows = broken_customer(id_number=bad_id, phone="1234567", birth_date="1999-01-01")
    rows["customers"].append(
        {
            **rows["customers"][0],
            "customer_id": "C8",
            "name": "王五",
            "id_number": "91350100M000100Y44",
            "kind": "corporate",
        }
    )
    ds = load_rows(tmp_path, rows)
    text = " ".join(ds.quarantine["reason"])
    for raw in (bad_id, "1234567", "91350100M000100Y44", "王五", "李四", "1999-01-01"):
        assert raw not in text


def test_staff_rules_capacity_branch_and_dates(tmp_path):
    rows = base_rows()
    s1 = rows["staff"][0]
    rows["staff"] += [
        {**s1, "staff_id": "S3", "capacity": "0"},
        {**s1, "staff_id": "S4", "capacity": "ten"},
        {**s1, "staff_id": "S5", "branch_id": ""},
        {**s1, "staff_id": "S6", "branch_id": "B99"},
        {**s1, "staff_id": "S7", "end_date": "2019-12-31"},
        {**s1, "staff_id": "S8", "role": "boss"},
    ]
    ds = load_rows(tmp_path, rows)
    assert codes(ds, "staff", 4) == {"BAD_CAPACITY"}
    assert codes(ds, "staff", 5) == {"BAD_INT"}
    assert codes(ds, "staff", 6) == {"REQUIRED"}
    assert codes(ds, "staff", 7) == {"UNKNOWN_REFERENCE"}
    assert codes(ds, "staff", 8) == {"DATE_ORDER"}
    assert codes(ds, "staff", 9) == {"BAD_ENUM"}
    assert clean_ids(ds, "staff", "staff_id") == {"S1", "S2"}


def test_account_maturing_or_closing_before_opening_is_date_order(tmp_path):
    rows = base_rows()
    a1 = rows["accounts"][0]
    rows["accounts"] += [
        {**a1, "account_id": "A8", "maturity_date": "2019-01-01"},
        {**a1, "account_id": "A9", "close_date": "2019-12-31"},
    ]
    ds = load_rows(tmp_path, rows)
    assert codes(ds, "accounts", 5) == {"DATE_ORDER"}
    assert codes(ds, "accounts", 6) == {"DATE_ORDER"}


def test_account_of_quarantined_customer_is_unknown_reference_and_so_are_its_rows(tmp_path):
    rows = broken_customer(id_number="110105194912310021")
    rows["accounts"].append({**rows["accounts"][0], "account_id": "A9", "customer_id": "C9"})
    rows["balances_daily"].append({"account_id": "A9", "date": "2025-01-01", "balance": "5"})
    ds = load_rows(tmp_path, rows)
    assert codes(ds, "accounts", 5) == {"UNKNOWN_REFERENCE"}
    assert codes(ds, "balances_daily", 6) == {"UNKNOWN_REFERENCE"}
    assert "A9" not in clean_ids(ds, "balances_daily", "account_id")


def test_income_month_sign_and_referral_references(tmp_path):
    rows = base_rows()
    inc = rows["income"][0]
    rows["income"] += [
        {**inc, "month": "2025-13"},
        {**inc, "month": "2025-02", "fee_waivers": "-1"},
        {**inc, "month": "2025-03", "customer_id": "C404"},
    ]
    rows["referrals"].append({"referrer_id": "C404", "referred_id": "C1", "date": "2024-01-01"})
    rows["purchases"].append({**rows["purchases"][0], "purchase_id": "P2", "amount": "0"})
    ds = load_rows(tmp_path, rows)
    assert codes(ds, "income", 3) == {"BAD_MONTH"}
    assert codes(ds, "income", 4) == {"NEGATIVE_AMOUNT"}
    assert codes(ds, "income", 5) == {"UNKNOWN_REFERENCE"}
    assert codes(ds, "referrals", 3) == {"UNKNOWN_REFERENCE"}
    assert codes(ds, "purchases", 3) == {"NEGATIVE_AMOUNT"}
    assert clean_ids(ds, "income", "month") == {"2025-01"}


def test_repeated_row_is_collapsed_and_conflicting_rows_are_all_set_aside(tmp_path):
    rows = base_rows()
    rows["branches"].append(dict(rows["branches"][0]))  # exact copy: line 4
    rows["accounts"].append({**rows["accounts"][2], "product_type": "insurance"})  # line 5
    ds = load_rows(tmp_path, rows)
    assert codes(ds, "branches", 4) == {"DUPLICATE_ROW"}
    assert codes(ds, "branches", 2) == set()
    assert clean_ids(ds, "branches", "branch_id") == {"B01", "B02"}
    assert codes(ds, "accounts", 4) == {"DUPLICATE_KEY"}
    assert codes(ds, "accounts", 5) == {"DUPLICATE_KEY"}
    assert "A3" not in clean_ids(ds, "accounts", "account_id")
    assert_invariant(ds)


def test_csv_row_with_wrong_field_count_is_quarantined(tmp_path):
    data_dir = write_bank(tmp_path / "bank", base_rows())
    with (data_dir / "branches.csv").open("a", encoding="utf-8") as fh:
        fh.write("B03,West,Xiamen,extra\n\nB04,North,Fuzhou\n")
    ds = load(data_dir)
    assert codes(ds, "branches", 4) == {"FIELD_COUNT"}
    assert "B04" in clean_ids(ds, "branches", "branch_id")
    assert codes(ds, "branches", 6) == set()
    assert_invariant(ds)


def test_csv_line_numbers_are_physical_lines_across_quoted_newlines(tmp_path):
    rows = base_rows()
    rows["branches"][1]["name"] = "East\nwing"
    rows["branches"].append({"branch_id": "", "name": "X", "city": ""})
    ds = load_rows(tmp_path, rows)
    assert codes(ds, "branches", 5) == {"REQUIRED"}


# --- Excel ---------------------------------------------------------------------------------


def write_customers_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, cells in sheets.items():
        sheet = book.create_sheet(title)
        for row in cells:
            sheet.append(row)
    book.save(path)


def test_numeric_id_cell_in_excel_is_quarantined(tmp_path):
    rows = base_rows()
    data_dir = write_bank(tmp_path / "bank", rows)
    (data_dir / "customers.csv").unlink()
    header = list(rows["customers"][0])
    good = [list(r.values()) for r in rows["customers"]]
    good[0][4] = datetime(2020, 1, 1)  # an Excel date cell
    numeric = list(rows["customers"][2].values())
    numeric[0] = "C7"
    numeric[6] = 350102198001010010  # ID typed as a number
    write_customers_xlsx(
        data_dir / "customers.xlsx",
        {
            "说明": [["this sheet explains the file"]],
            "客户": [header, *good],
            "more": [header, numeric],
        },
    )
    ds = load(data_dir)
    q = ds.quarantine
    hit = q[q["code"] == "NUMERIC_ID_CELL"].iloc[0]
    assert (hit["file"], hit["sheet"], hit["line"], hit["column"]) == (
        "customers.xlsx",
        "more",
        2,
        "id_number",
    )
    assert clean_ids(ds, "customers", "customer_id") == {"C1", "C2", "C3"}
    assert_invariant(ds)


def test_excel_sheets_missing_a_required_column_is_fatal(tmp_path):
    data_dir = write_bank(tmp_path / "bank", base_rows())
    (data_dir / "branches.csv").unlink()
    write_customers_xlsx(data_dir / "branches.xlsx", {"s": [["branch_id", "city"], ["B01", "x"]]})
    with pytest.raises(IngestError, match=r"branches\.xlsx.*name"):
        load(data_dir)


# --- large tables ---------------------------------------------------------------------------


def test_large_table_errors_are_found_set_based_with_parquet_row_numbers(tmp_path):
    rows = base_rows()
    rows["balances_daily"] += [
        {"account_id": "A1", "date": "2025-01-03", "balance": "-5"},  # row 5
        {"account_id": "A404", "date": "2025-01-01", "balance": "1"},  # row 6
        {"account_id": "A2", "date": "2025-01-01", "balance": "0"},  # row 7: copy of row 3
        {"account_id": "A3", "date": "2025-01-01", "balance": "1"},  # row 8: conflicts row 4
        {"account_id": "", "date": "2025/01/05", "balance": "NaN"},  # row 9
        {"account_id": "A1", "date": "05-01-2025", "balance": "x"},  # row 10
    ]
    rows["transactions"] += [
        {**rows["transactions"][0], "txn_id": "T2", "direction": "sideways"},
        {**rows["transactions"][0], "txn_id": "T3", "amount": "0"},
        {**rows["transactions"][0], "txn_id": "T4"},  # row 4
        {**rows["transactions"][0], "txn_id": "T4", "amount": "7"},  # row 5: conflicts row 4
        dict(rows["transactions"][0]),  # row 6: copy of row 1
    ]
    ds = load_rows(tmp_path, rows, balances_daily="parquet", transactions="parquet")
    assert codes(ds, "transactions", 4) == codes(ds, "transactions", 5) == {"DUPLICATE_KEY"}
    assert codes(ds, "transactions", 6) == {"DUPLICATE_ROW"}
    assert "balances_daily" in ds.keys_unchecked  # left to the engine: check_keys_for
    assert codes(ds, "balances_daily", 7) == set()
    assert_invariant(ds)
    assert ds.check_keys_for("balances_daily", ["A2", "A3"]) == 3
    assert ds.check_keys_for("balances_daily", ["A1", "A2", "A3"]) == 0  # nothing new
    assert codes(ds, "balances_daily", 5) == {"NEGATIVE_AMOUNT"}
    assert codes(ds, "balances_daily", 6) == {"UNKNOWN_REFERENCE"}
    assert codes(ds, "balances_daily", 7) == {"DUPLICATE_ROW"}
    assert codes(ds, "balances_daily", 4) == {"DUPLICATE_KEY"}
    assert codes(ds, "balances_daily", 8) == {"DUPLICATE_KEY"}
    assert codes(ds, "balances_daily", 9) == {"REQUIRED", "BAD_NUMBER"}
    assert codes(ds, "balances_daily", 10) == {"BAD_DATE", "BAD_NUMBER"}
    assert codes(ds, "transactions", 2) == {"BAD_ENUM"}
    assert codes(ds, "transactions", 3) == {"NEGATIVE_AMOUNT"}
    clean = ds.tables["balances_daily"].to_pandas()
    assert len(clean) == 3
    assert set(clean["account_id"]) == {"A1", "A2"}
    assert_invariant(ds)


def test_large_table_without_key_check_keeps_duplicates(tmp_path):
    rows = base_rows()
    rows["balances_daily"].append(dict(rows["balances_daily"][0]))
    ds = load(write_bank(tmp_path / "bank", rows), check_keys=False)
    assert ds.quarantine.empty
    assert ds.tables["balances_daily"].count().execute() == 5


def test_large_table_in_csv_has_physical_line_numbers(tmp_path):
    rows = base_rows()
    rows["balances_daily"].append({"account_id": "A1", "date": "2025-02-30", "balance": "1"})
    ds = load_rows(tmp_path, rows)
    assert codes(ds, "balances_daily", 6) == {"BAD_DATE"}
    assert_invariant(ds)


def test_parquet_folder_counts_rows_per_file_and_collapses_a_copied_file(tmp_path):
    rows = base_rows()
    balances = rows.pop("balances_daily")
    data_dir = write_bank(tmp_path / "bank", rows)
    (data_dir / "balances_daily").mkdir()
    for part in ("part-0.parquet", "part-1.parquet"):
        pq.write_table(pa.Table.from_pylist(balances), data_dir / "balances_daily" / part)
    ds = load(data_dir)
    assert ds.tables["balances_daily"].count().execute() == 8  # keys left to the engine
    assert ds.check_keys_for("balances_daily", ["A1", "A2", "A3"]) == 4
    assert ds.tables["balances_daily"].count().execute() == 4
    q = ds.quarantine
    assert set(q["code"]) == {"DUPLICATE_ROW"}
    assert set(q["file"]) == {"balances_daily/part-1.parquet"}
    assert sorted(q["line"]) == [1, 2, 3, 4]
    assert_invariant(ds)


# --- fatal problems -------------------------------------------------------------------------


def test_missing_required_table_is_fatal(tmp_path):
    data_dir = write_bank(tmp_path / "bank", base_rows())
    (data_dir / "staff.csv").unlink()
    with pytest.raises(IngestError, match="required table missing: staff"):
        load(data_dir)


def test_missing_balances_is_fatal(tmp_path):
    data_dir = write_bank(tmp_path / "bank", base_rows())
    (data_dir / "balances_daily.csv").unlink()
    with pytest.raises(IngestError, match="no balances"):
        load(data_dir)


def test_missing_required_column_is_fatal_and_names_the_file(tmp_path):
    rows = base_rows()
    for row in rows["accounts"]:
        del row["open_date"]
    with pytest.raises(IngestError, match=r"accounts\.csv: required column missing: open_date"):
        load_rows(tmp_path, rows)


def test_same_table_in_two_formats_is_fatal(tmp_path):
    data_dir = write_bank(tmp_path / "bank", base_rows())
    pq.write_table(pa.Table.from_pylist(base_rows()["branches"]), data_dir / "branches.parquet")
    with pytest.raises(IngestError, match=r"branches.*given twice"):
        load(data_dir)


@pytest.mark.parametrize(
    ("name", "payload", "reason"),
    [
        ("customers.csv", "customer_id,kind\nC1,\xff\n".encode("latin-1"), "not UTF-8"),
        ("customers.xlsx", b"not a workbook", "unreadable Excel"),
        ("balances_daily.parquet", b"PAR1 broken", "unreadable Parquet"),
    ],
)
def test_unreadable_file_is_fatal(tmp_path, name, payload, reason):
    data_dir = write_bank(tmp_path / "bank", base_rows())
    (data_dir / f"{name.split('.')[0]}.csv").unlink()
    (data_dir / name).write_bytes(payload)
    with pytest.raises(IngestError, match=reason) as err:
        load(data_dir)
    assert name in str(err.value)


# --- the error catalogue, the quarantine file and the docs -----------------------------------


def test_every_error_code_is_exercised_by_this_module():
    source = Path(__file__).read_text(encoding="utf-8")
    missing = [code for code in ERROR_CODES if f'"{code}"' not in source]
    assert missing == []


def test_quarantine_is_written_as_csv_with_bom(tmp_path):
    ds = load_rows(tmp_path, broken_customer(name=""))
    path = write_quarantine(ds.quarantine, tmp_path / "out" / "quarantine.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert list(back.columns) == ["table", "file", "sheet", "line", "column", "code", "reason"]
    assert back["code"].tolist() == ["REQUIRED"]


def test_committed_data_contract_doc_equals_the_rendered_one():
    committed = (REPO / "docs" / "data-contract.md").read_text(encoding="utf-8")
    assert committed == render_markdown()
    for table in TABLES_BY_NAME:
        assert f"### `{table}`" in committed


# --- duplicate keys of balances_daily, checked on the engine's request ----------------------


def test_check_keys_for_sets_aside_copied_part_and_conflicting_day(tmp_path):
    rows = base_rows()
    balances = rows.pop("balances_daily")
    data_dir = write_bank(tmp_path / "bank", rows)
    folder = data_dir / "balances_daily"
    folder.mkdir()
    pq.write_table(pa.Table.from_pylist(balances), folder / "part-0.parquet")
    pq.write_table(pa.Table.from_pylist(balances), folder / "part-1.parquet")  # a copied part
    conflict = [
        {"account_id": "A3", "date": "2025-01-02", "balance": "5"},
        {"account_id": "A3", "date": "2025-01-02", "balance": "6"},
    ]
    pq.write_table(pa.Table.from_pylist(conflict), folder / "part-2.parquet")
    ds = load(data_dir)
    assert ds.tables["balances_daily"].count().execute() == 10
    before = ds.tables["balances_daily"]

    added = ds.check_keys_for("balances_daily", ["A1", "A2", "A3", "A404"])

    assert added == 6
    clean = ds.tables["balances_daily"].to_pandas()
    assert not clean.duplicated(["account_id", "date"]).any()
    assert len(clean) == 4  # every day of part-0 once; the conflicting day of A3 set aside
    q = ds.quarantine
    assert set(q.loc[q["file"] == "balances_daily/part-1.parquet", "code"]) == {"DUPLICATE_ROW"}
    assert sorted(q.loc[q["file"] == "balances_daily/part-1.parquet", "line"]) == [1, 2, 3, 4]
    assert codes(ds, "balances_daily", 1) >= {"DUPLICATE_ROW"}
    key = q[q["file"] == "balances_daily/part-2.parquet"]
    assert list(key["code"]) == ["DUPLICATE_KEY", "DUPLICATE_KEY"]
    assert key["reason"].str.startswith("2 different rows").all()
    assert before.count().execute() == 10  # an expression taken earlier still runs
    assert_invariant(ds)
    assert ds.check_keys_for("balances_daily", ["A3"]) == 0
    assert_invariant(ds)


def test_check_keys_for_only_looks_at_the_accounts_given(tmp_path):
    rows = base_rows()
    rows["balances_daily"] += [dict(rows["balances_daily"][0]), dict(rows["balances_daily"][3])]
    ds = load_rows(tmp_path, rows)
    assert ds.check_keys_for("balances_daily", ["A1"]) == 1
    assert codes(ds, "balances_daily", 6) == {"DUPLICATE_ROW"}
    assert codes(ds, "balances_daily", 7) == set()  # A3's copy: not asked for yet
    assert ds.tables["balances_daily"].count().execute() == 5
    assert_invariant(ds)
    with pytest.raises(ValueError, match="not a large table"):
        ds.check_keys_for("customers", ["A1"])


# --- CSV read by DuckDB: physical line numbers on a file of many chunks ---------------------


def test_large_csv_read_by_duckdb_keeps_physical_line_numbers(tmp_path, monkeypatch):
    fallback = []
    python_reader = stage_module._csv_batches
    monkeypatch.setattr(
        stage_module,
        "_csv_batches",
        lambda path, *a: fallback.append(path.name) or python_reader(path, *a),
    )
    rows = base_rows()
    inc = rows["income"][0]
    months = [f"{y}-{m:02d}" for y in range(1000, 9999) for m in range(1, 13)][:60_000]
    rows["income"] = [{**inc, "month": m} for m in months]
    rows["income"][12_345]["month"] = "2025-13"  # line 12_347
    rows["income"][59_990]["fee_waivers"] = "-1"  # line 59_992
    data_dir = write_bank(tmp_path / "bank", rows)
    with (data_dir / "income.csv").open("a", encoding="utf-8", newline="") as fh:
        fh.write("C1,9999-01,1,2\r\n,,,,,\r\nC1,9999-02,1,1,0,0\r\n")  # lines 60_002-60_004
    ds = load(data_dir)
    assert codes(ds, "income", 12_347) == {"BAD_MONTH"}
    assert codes(ds, "income", 59_992) == {"NEGATIVE_AMOUNT"}
    assert codes(ds, "income", 60_002) == {"FIELD_COUNT"}
    assert "9999-02" in clean_ids(ds, "income", "month")
    record = next(r for r in ds.files if r.table == "income")
    assert (record.rows_read, record.rows_quarantined) == (60_002, 3)
    assert_invariant(ds)
    assert "income.csv" not in fallback  # DuckDB read it, not the Python reader


def test_csv_cells_are_stripped_of_any_unicode_whitespace(tmp_path):
    rows = base_rows()
    rows["customers"][2]["phone"] = "\u3000139 1234 5678\t"
    rows["customers"][2]["kind"] = " Individual\u00a0"
    ds = load_rows(tmp_path, rows)
    assert ds.quarantine.empty
    customers = ds.tables["customers"].to_pandas().set_index("customer_id")
    assert customers.loc["C3", "phone"] == "13912345678"
    assert customers.loc["C3", "kind"] == "individual"
