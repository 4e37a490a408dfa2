"""A run's master data and archive, shaped as the store's tables (pandas, whole
columns; no database here): what ``publish`` writes besides the per-run tables."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from tierbook.domain.masking import mask_id_number, mask_phone
from tierbook.rules.models import Rulebook
from tierbook.store.crypto import FieldCipher

ARCHIVE_COLUMNS = (
    "customer_id",
    "kind",
    "name",
    "branch_id",
    "open_date",
    "birth_date",
    "id_number",
    "phone",
    "address",
    "occupation",
    "annual_income",
    "family",
    "hobbies",
    "risk_preference",
    "preferred_channel",
    "preferred_service",
    "sector",
    "industry",
    "annual_sales",
    "listed_industry",
)
SENSITIVE = ("id_number", "phone")
DATE_COLUMNS = ("open_date", "birth_date", "maturity_date", "close_date", "start_date", "end_date")


@dataclass(frozen=True)
class MasterData:
    """What the batch read besides its results: branches, staff, the customer archive and
    the holdings on the as-of date."""

    branches: pd.DataFrame
    staff: pd.DataFrame
    archive: pd.DataFrame
    holdings: pd.DataFrame


def master_data(ds: Any, as_of: date) -> MasterData:
    """Read the master tables of a loaded ``tierbook.ingest.dataset.Dataset``."""
    from tierbook.analytics.holdings import holdings_on

    t = ds.tables
    archive = _dates(t["customers"].to_pandas())
    for col in ARCHIVE_COLUMNS:
        if col not in archive.columns:
            archive[col] = None
    holdings = holdings_on(t["accounts"], ds.balances, ds.balance_form, as_of).to_pandas()
    return MasterData(
        branches=t["branches"].select("branch_id", "name", "city").to_pandas(),
        staff=_dates(t["staff"].to_pandas()),
        archive=archive[list(ARCHIVE_COLUMNS)],
        holdings=_dates(holdings),
    )


def _dates(frame: pd.DataFrame) -> pd.DataFrame:
    """Day columns as ``datetime64`` (normalised); missing days as NaT."""
    for col in DATE_COLUMNS:
        if col in frame.columns:
            frame[col] = pd.to_datetime(frame[col]).dt.normalize()
    return frame


def staff_frame(staff: pd.DataFrame) -> pd.DataFrame:
    """Staff with ``supervisor_id``: an RM's supervisor is the active rm_supervisor of the
    same branch when the branch has exactly one (otherwise left empty)."""
    out = staff[["staff_id", "name", "branch_id", "role", "capacity", "start_date", "end_date"]]
    out = out.copy()
    sup = out[(out["role"] == "rm_supervisor") & out["end_date"].isna()]
    sup = sup.drop_duplicates("branch_id", keep=False).set_index("branch_id")["staff_id"]
    out["supervisor_id"] = np.where(out["role"] == "rm", out["branch_id"].map(sup), None)
    out["supervisor_id"] = out["supervisor_id"].where(out["supervisor_id"].notna(), None)
    return out.sort_values("supervisor_id", na_position="first", kind="stable")  # FK order


def archive_hashes(archive: pd.DataFrame, cipher: FieldCipher) -> pd.Series:
    """A keyed digest of each customer's archive, to find the rows a re-run must rewrite."""
    cols = [archive[c].astype(object).where(archive[c].notna(), None) for c in ARCHIVE_COLUMNS]
    return pd.Series(
        [cipher.digest(parts) for parts in zip(*cols, strict=True)],
        index=archive.index,
        dtype=object,
    )


def protect(archive: pd.DataFrame, cipher: FieldCipher) -> pd.DataFrame:
    """The archive as stored: ID numbers and phones encrypted, masked and look-up hashed;
    the plain columns dropped."""
    out = archive.drop(columns=list(SENSITIVE)).copy()
    maskers = {"id_number": mask_id_number, "phone": mask_phone}
    for col in SENSITIVE:
        values = archive[col].astype(object).where(archive[col].notna(), None).tolist()
        present = [str(v) for v in values if v is not None]
        tokens = iter(cipher.encrypt_many(present))
        out[f"{col}_enc"] = [None if v is None else next(tokens) for v in values]
        out[f"{col}_masked"] = [None if v is None else maskers[col](str(v)) for v in values]
        out[f"{col}_hash"] = [None if v is None else cipher.lookup_hash(str(v)) for v in values]
    return out


def tier_ladder_id(rb: Rulebook) -> str:
    """The ladder a book's "tier" means: the one upgrade referrals watch (card tiers)."""
    if rb.maintenance is not None:
        return rb.maintenance.upgrade_referral.ladder
    return rb.ladders[0].id


def band_ladder_id(rb: Rulebook) -> str | None:
    """The ladder a book's "band" means: the maintenance bands, when the rulebook has them."""
    return rb.maintenance.band_ladder if rb.maintenance is not None else None


def day_column(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.normalize()


def json_default(value: Any) -> Any:
    return str(value)


def manifest_json(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest as plain JSON (dates and paths as text)."""
    loaded: dict[str, Any] = json.loads(json.dumps(manifest, default=json_default))
    return loaded
