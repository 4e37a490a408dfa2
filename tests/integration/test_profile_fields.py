"""The maintenance step's profile fields: a field is missing when it is null or holds only
whitespace (whatever Python's ``str.strip`` removes: ASCII, U+3000 ideographic space,
no-break space, line separators...), judged in Arrow. Checked against a plain-Python rule."""

from __future__ import annotations

import types
from datetime import date

import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from tierbook.batch.maintain import PROFILE_FIELDS, SPACE, _profile
from tierbook.bootstrap import connect_engine

SPACES = " \t\n\x0b\x0c\r\x1c\x1f\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"
OTHERS = "a路\u200b\ufeff,-0"  # zero-width space and BOM are not whitespace for str.strip
texts = st.none() | st.text(alphabet=SPACES + OTHERS, max_size=4)
rows = st.lists(st.tuples(st.booleans(), texts, texts), min_size=1, max_size=30)


def reference(birth: bool, address: str | None, phone: str | None) -> str:
    values = {
        "birth_date": date(1980, 2, 29) if birth else None,
        "address": address,
        "phone": phone,
    }
    return ",".join(f for f in PROFILE_FIELDS if values[f] is None or str(values[f]).strip() == "")


@settings(max_examples=60)
@given(rows)
def test_missing_fields_are_null_or_whitespace_only(drawn):
    con = connect_engine()
    table = pa.table(
        {
            "customer_id": [f"C{i:03d}" for i in range(len(drawn))],
            "birth_date": pa.array([date(1980, 2, 29) if b else None for b, _, _ in drawn]),
            "address": pa.array([a for _, a, _ in drawn], pa.string()),
            "phone": pa.array([p for _, _, p in drawn], pa.string()),
        }
    )
    con.con.register("profile_input", table)
    ds = types.SimpleNamespace(tables={"customers": con.table("profile_input")})
    got = _profile(ds)
    assert got["missing_fields"].tolist() == [reference(*r) for r in drawn]
    births = [pd.Timestamp(1980, 2, 29) if b else pd.NaT for b, _, _ in drawn]
    assert got["birth_date"].tolist() == births


def test_the_written_out_whitespace_is_every_character_python_strips():
    assert set(SPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}
