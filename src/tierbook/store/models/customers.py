"""Customers with the hard and soft archive of seed 004, their holdings and AUM history.

ID numbers and phones are stored encrypted (``*_enc``, Fernet), with a masked form for
lists and a keyed hash (HMAC-SHA256) for exact look-ups; see ``tierbook.store.crypto``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Numeric, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tierbook.store.base import Base

Money = Numeric(18, 2)


class Customer(Base):
    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    branch_id: Mapped[str] = mapped_column(ForeignKey("branches.branch_id"), index=True)
    open_date: Mapped[date] = mapped_column(Date)
    birth_date: Mapped[date | None] = mapped_column(Date)
    id_number_enc: Mapped[str] = mapped_column(Text)
    id_number_masked: Mapped[str] = mapped_column(String(32))
    id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_enc: Mapped[str | None] = mapped_column(Text)
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    address: Mapped[str | None] = mapped_column(Text)
    occupation: Mapped[str | None] = mapped_column(String(100))
    annual_income: Mapped[Decimal | None] = mapped_column(Money)
    family: Mapped[str | None] = mapped_column(Text)
    hobbies: Mapped[str | None] = mapped_column(Text)
    risk_preference: Mapped[str | None] = mapped_column(String(4))
    preferred_channel: Mapped[str | None] = mapped_column(String(16))
    preferred_service: Mapped[str | None] = mapped_column(String(100))
    sector: Mapped[str | None] = mapped_column(String(32))
    industry: Mapped[str | None] = mapped_column(String(100))
    annual_sales: Mapped[Decimal | None] = mapped_column(Money)
    listed_industry: Mapped[bool | None] = mapped_column(Boolean)
    archive_hash: Mapped[str] = mapped_column(String(64))
    """Keyed hash of the archive as last published: a re-run rewrites only changed rows."""
    updated_run_no: Mapped[int] = mapped_column(ForeignKey("runs.no"))


class Holding(Base):
    """An account (holding) with its balance on the run's as-of date; one set per run."""

    __tablename__ = "holdings"
    __table_args__ = (Index("ix_holdings_run_no_customer_id", "run_no", "customer_id"),)

    run_no: Mapped[int] = mapped_column(ForeignKey("runs.no"), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32))
    product_type: Mapped[str] = mapped_column(String(32))
    product_name: Mapped[str | None] = mapped_column(String(200))
    open_date: Mapped[date] = mapped_column(Date)
    maturity_date: Mapped[date | None] = mapped_column(Date)
    close_date: Mapped[date | None] = mapped_column(Date)
    balance: Mapped[Decimal] = mapped_column(Money)


class AumHistory(Base):
    """A ladder's measure (the 年日均-family average it reads) and level per review period."""

    __tablename__ = "aum_history"

    run_no: Mapped[int] = mapped_column(ForeignKey("runs.no"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ladder_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period_end: Mapped[date] = mapped_column(Date, primary_key=True)
    measure: Mapped[Decimal] = mapped_column(Money)
    level: Mapped[str] = mapped_column(String(64))
    level_index: Mapped[int] = mapped_column(SmallInteger)
    step: Mapped[str] = mapped_column(String(32))
