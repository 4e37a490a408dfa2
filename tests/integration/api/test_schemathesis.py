"""Schemathesis against the app in process (ASGI): generated requests for every operation,
as a head-office user who sees every record, with a bounded number of examples.
No answer may be a server error or break the OpenAPI document (status, content type, body).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from tests.integration.api import bank
from tests.integration.api.conftest import Api, open_api

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_api(bank_template) -> Iterator[Api]:
    api = open_api(bank_template.clone())
    with api.db() as db:
        for n, owner in enumerate(("R1", "R2", "R9", "M1"), start=1):
            bank.add_case(db, api.store.cipher, n, owner)
        db.commit()
    yield api
    api.client.close()
    api.store.dispose()


MAX_EXAMPLES = 8


def test_api_conforms_to_its_openapi_document(fuzz_api) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_api.client.app)
    headers = fuzz_api.login("personal_banking")
    failures: list[str] = []
    ran = 0
    for result in schema.get_all_operations():
        op = result.ok()
        if op.path == "/auth/logout":
            continue  # would end the session the other operations use

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=op.as_strategy())
        def run(case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # a check failed: keep going, report all operations
            failures.append(f"{op.method.upper()} {op.path}: {exc}")
        ran += 1
    assert ran >= 30
    assert not failures, "\n\n".join(failures)
