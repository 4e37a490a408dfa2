"""Locust users for ``bench.api``: each takes a session of an RM or a branch manager (opened
by the bench), pages through the book and opens customer 360s of customers on the page."""

from __future__ import annotations

import os
import random
from pathlib import Path

from locust import HttpUser, between, task

TOKENS = Path(os.environ["BENCH_TOKENS"]).read_text().split()


class Staff(HttpUser):
    wait_time = between(0, 0)

    def on_start(self) -> None:
        # sessions are opened before the measurement (argon2 costs ~0.1 s of CPU per login)
        self.client.headers["Authorization"] = f"Bearer {random.choice(TOKENS)}"
        self.ids: list[str] = []

    @task(1)
    def my_book(self) -> None:
        offset = random.randrange(0, 200, 50)
        r = self.client.get(f"/customers?limit=50&offset={offset}", name="my-book")
        if r.ok:
            self.ids = [i["customer_id"] for i in r.json()["items"]] or self.ids

    @task(1)
    def customer_360(self) -> None:
        if self.ids:
            self.client.get(f"/customers/{random.choice(self.ids)}", name="customer-360")
