"""Alembic migrations shipped inside the package (``tierbook db upgrade``)."""
