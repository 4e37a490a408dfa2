"""The operational store: SQLAlchemy models, repositories, Alembic migrations, publishing.

SQLite by default (``tierbook.db``), PostgreSQL by ``TIERBOOK_DATABASE_URL``
(``postgresql+psycopg://…``). See docs/store.md.
"""
