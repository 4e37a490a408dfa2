"""Locust users for ``bench.api``: an RM or a branch manager logs in, then pages through the
book and opens customer 360s of customers on the page (each user its own session)."""

from __future__ import annotations

import os
import random

from locust import HttpUser, between, task

ROLES = os.environ.get("BENCH_ROLES", "rm,branch_manager").split(",")
PASSWORD = os.environ["BENCH_PASSWORD"]


class Staff(HttpUser):
    wait_time = between(0, 0)

    def on_start(self) -> None:
        role = random.choice(ROLES)
        r = self.client.post(
            "/auth/login", json={"login": role, "password": PASSWORD}, name="login"
        )
        r.raise_for_status()
        self.client.headers["Authorization"] = f"Bearer {r.json()['token']}"
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
