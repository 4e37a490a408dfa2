"""Settings for every test: hypothesis examples carry no time limit (its default deadline
of 200 ms is a timed assertion, which fails on a loaded machine; speed is measured in
``make bench``, not asserted in tests)."""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("tierbook", deadline=None)
settings.load_profile("tierbook")
