"""The data contract: the input tables tierbook reads (SPEC §2), declared once.

Every reader, validator, the demo generator and ``docs/data-contract.md`` follow these
declarations. A data directory holds one file per table named after the table, in any of
the supported formats: ``customers.csv``, ``customers.xlsx`` or ``customers.parquet``; a
large table may also be a folder of Parquet files (``balances_daily/*.parquet``).

Balances come in one of two forms (a bank exports one or the other; the demo bank has both):
``balances_daily`` — one row per account and day with its end-of-day balance; or
``balance_events`` — one row only when an account's balance changes, the new balance holding
from that date until the next event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tierbook.rules.models import STAFF_ROLES, AssetClass

ColType = Literal["text", "id_text", "int", "decimal", "date", "month", "bool", "enum"]

CUSTOMER_KINDS = ("individual", "corporate", "institution")
RISK_PREFERENCES = ("C1", "C2", "C3", "C4", "C5")
CHANNELS = ("branch", "phone", "wechat", "app", "email", "sms", "visit")
TXN_CHANNELS = ("counter", "atm", "mobile", "online", "pos", "transfer")
DIRECTIONS = ("in", "out")
COUNTERPARTY_TYPES = ("own", "internal", "other_bank", "merchant", "salary", "securities")
CORPORATE_SECTORS = ("traditional", "emerging", "real_estate", "government", "public_institution")


@dataclass(frozen=True)
class Column:
    name: str
    type: ColType
    required: bool = True
    enum: tuple[str, ...] = ()
    references: str | None = None  # "table.column" that must exist
    doc: str = ""
    personal: bool = False  # personal financial information: masked in outputs


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    doc: str = ""
    large: bool = False  # validated set-based (never row by row in Python)
    optional: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


PRODUCT_TYPES = tuple(c.value for c in AssetClass)
ROLES = tuple(r.value for r in STAFF_ROLES)

BRANCHES = Table(
    "branches",
    (
        Column("branch_id", "id_text", doc="branch code"),
        Column("name", "text"),
        Column("city", "text", required=False),
    ),
    key=("branch_id",),
    doc="Branches (网点).",
)

STAFF = Table(
    "staff",
    (
        Column("staff_id", "id_text"),
        Column("name", "text"),
        Column(
            "branch_id",
            "id_text",
            references="branches.branch_id",
            doc="empty for personal_banking staff of the head office",
            required=False,
        ),
        Column("role", "enum", enum=ROLES),
        Column("capacity", "int", doc="most customers this person maintains"),
        Column("start_date", "date"),
        Column("end_date", "date", required=False, doc="last working day; empty if active"),
    ),
    key=("staff_id",),
    doc="Staff with role, branch and capacity. A filled end_date is a departure.",
)

CUSTOMERS = Table(
    "customers",
    (
        Column("customer_id", "id_text"),
        Column("kind", "enum", enum=CUSTOMER_KINDS),
        Column("name", "text", personal=True),
        Column("branch_id", "id_text", references="branches.branch_id"),
        Column("open_date", "date"),
        Column(
            "birth_date", "date", required=False, doc="individuals: must agree with the ID number"
        ),
        Column(
            "id_number",
            "id_text",
            personal=True,
            doc="18-digit resident ID (GB 11643-1999) for individuals; unified social "
            "credit code (GB 32100-2015) for corporates and institutions",
        ),
        Column(
            "phone",
            "id_text",
            required=False,
            personal=True,
            doc="mainland mobile; spaces, hyphens and +86/0086/86 are stripped",
        ),
        Column("address", "text", required=False, personal=True),
        Column("occupation", "text", required=False),
        Column("annual_income", "decimal", required=False),
        Column("risk_preference", "enum", enum=RISK_PREFERENCES, required=False),
        Column("hobbies", "text", required=False),
        Column("family", "text", required=False),
        Column("preferred_channel", "enum", enum=CHANNELS, required=False),
        Column(
            "sector",
            "enum",
            enum=CORPORATE_SECTORS,
            required=False,
            doc="corporates and institutions",
        ),
        Column("industry", "text", required=False),
        Column("annual_sales", "decimal", required=False, doc="corporates, CNY"),
        Column(
            "listed_industry",
            "bool",
            required=False,
            doc="industry with the 1.5亿 large-client line",
        ),
    ),
    key=("customer_id",),
    doc="Customers, individual or corporate, with the hard and soft archive of seed 004.",
)

ACCOUNTS = Table(
    "accounts",
    (
        Column("account_id", "id_text"),
        Column("customer_id", "id_text", references="customers.customer_id"),
        Column("product_type", "enum", enum=PRODUCT_TYPES),
        Column("product_name", "text", required=False),
        Column("open_date", "date"),
        Column(
            "maturity_date",
            "date",
            required=False,
            doc="time deposits, wealth-management products, insurance, loans",
        ),
        Column("close_date", "date", required=False),
    ),
    key=("account_id",),
    doc="Accounts and holdings; product_type is the asset class.",
)

BALANCES_DAILY = Table(
    "balances_daily",
    (
        Column("account_id", "id_text", references="accounts.account_id"),
        Column("date", "date"),
        Column("balance", "decimal", doc="end-of-day balance, CNY, >= 0"),
    ),
    key=("account_id", "date"),
    doc="Daily end-of-day balances; a missing day counts as zero.",
    large=True,
    optional=True,
)

BALANCE_EVENTS = Table(
    "balance_events",
    (
        Column("account_id", "id_text", references="accounts.account_id"),
        Column("date", "date", doc="first day the new balance holds"),
        Column("balance", "decimal", doc="balance from this date until the next event, >= 0"),
    ),
    key=("account_id", "date"),
    doc="Balance-change events: a row only when a balance changes.",
    large=True,
    optional=True,
)

TRANSACTIONS = Table(
    "transactions",
    (
        Column("txn_id", "id_text"),
        Column("account_id", "id_text", references="accounts.account_id"),
        Column("date", "date"),
        Column("amount", "decimal", doc="> 0"),
        Column("direction", "enum", enum=DIRECTIONS),
        Column("channel", "enum", enum=TXN_CHANNELS),
        Column("counterparty_type", "enum", enum=COUNTERPARTY_TYPES),
    ),
    key=("txn_id",),
    doc="Transactions: money moving in or out of an account.",
    large=True,
    optional=True,
)

INCOME = Table(
    "income",
    (
        Column("customer_id", "id_text", references="customers.customer_id"),
        Column("month", "month", doc="YYYY-MM"),
        Column("net_interest", "decimal", doc="net interest contribution, may be negative"),
        Column("fees", "decimal"),
        Column("fee_waivers", "decimal", doc="concession: fees waived, >= 0"),
        Column("rate_premium", "decimal", doc="concession: interest paid above list rate, >= 0"),
    ),
    key=("customer_id", "month"),
    doc="Income per customer and month, with the concessions given.",
    optional=True,
)

REFERRALS = Table(
    "referrals",
    (
        Column("referrer_id", "id_text", references="customers.customer_id"),
        Column("referred_id", "id_text", references="customers.customer_id"),
        Column("date", "date"),
    ),
    key=("referrer_id", "referred_id"),
    doc="Who introduced whom.",
    optional=True,
)

PURCHASES = Table(
    "purchases",
    (
        Column("purchase_id", "id_text"),
        Column("customer_id", "id_text", references="customers.customer_id"),
        Column("date", "date"),
        Column("amount", "decimal", doc="> 0"),
        Column("category", "text", required=False, doc="product category (membership analysis)"),
        Column("items", "int", required=False, doc="items in the purchase, > 0"),
        Column(
            "discount",
            "decimal",
            required=False,
            doc="share off the list price, 0-1 (0: full price; promotion purchases > 0)",
        ),
        Column("new_arrival", "bool", required=False, doc="bought from the season's new arrivals"),
    ),
    key=("purchase_id",),
    doc="Purchases, for purchase-based ladders such as retail membership.",
    optional=True,
)

CONTACTS = Table(
    "contacts",
    (
        Column("contact_id", "id_text"),
        Column("customer_id", "id_text", references="customers.customer_id"),
        Column("staff_id", "id_text", required=False, references="staff.staff_id"),
        Column("date", "date"),
        Column("channel", "enum", enum=CHANNELS, required=False),
        Column("purpose", "text", required=False),
        Column("outcome", "text", required=False),
        Column(
            "reason_code",
            "text",
            required=False,
            doc="why a leaving customer is leaving, one of the rulebook's churn.reason_codes "
            "(e.g. rate, service, competitor, relocation, life_event, other)",
        ),
    ),
    key=("contact_id",),
    doc="Contact log (我的客户 work log): every contact with a customer. Optional; the churn "
    "report takes a leaving customer's reason from its contacts when they name one.",
    optional=True,
)

TABLES: tuple[Table, ...] = (
    BRANCHES,
    STAFF,
    CUSTOMERS,
    ACCOUNTS,
    BALANCES_DAILY,
    BALANCE_EVENTS,
    TRANSACTIONS,
    INCOME,
    REFERRALS,
    PURCHASES,
    CONTACTS,
)
TABLES_BY_NAME = {t.name: t for t in TABLES}
FORMATS = (".csv", ".xlsx", ".parquet")
