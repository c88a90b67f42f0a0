"""A bounded schemathesis run over every operation of the OpenAPI schema: the API never
answers with a server error, whatever it is sent.

The schema is the one the API serves (drf-spectacular), run in-process against the
WSGI application on the test PostgreSQL database, signed in with the API token of the
commissioner of a site filled with one of everything (thrive_site/tests/world.py), so
writes get past the access rules. Each operation gets EXAMPLES cases, drawn from:
- valid requests to the world's real objects, with the ETag they have in If-Match;
- the same with generated headers (an If-Match that matches nothing: 412);
- invalid requests to the same objects (schemathesis's negative mode: wrong types,
  missing fields, out-of-range values, a missing If-Match: 428);
- valid requests with every parameter generated, the path's too (other sites, objects
  that do not exist, odd characters).
Each case is rolled back, so every case finds the world as it was built.

Checks, each its own test over the one run: no 5xx (not_a_server_error); every status
code is one the schema documents (status_code_conformance), so the documented answers
stay the ones that happen; and every answer has the content type, headers and body
the schema documents (content_type_conformance, response_headers_conformance,
response_schema_conformance).

The run is derandomised so it fails the same way every time; FUZZ_SEED=<n> draws other
cases and FUZZ_EXAMPLES=<n> sets how many per operation. The counts are written to
test-artifacts/schemathesis.json.
"""

import json
import os
import sys
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client as WerkzeugClient

from accounts.models import User
from mapping.reference_data import seed_current
from sites.models import Role
from tests.factories import MembershipFactory, SiteFactory, UserFactory
from thrive_site.tests.openapi import openapi_schema
from thrive_site.tests.world import World, instrument_world, password_reset_world, site_world

# One run for the module (fuzz_run), on one worker; django_db has the test database set up for it.
pytestmark = [pytest.mark.xdist_group("schemathesis"), pytest.mark.django_db]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "16"))
SEED = os.environ.get("FUZZ_SEED")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "schemathesis.json"


@contextmanager
def wsgi_app() -> Iterator[WSGIHandler]:
    """Django's WSGI application, on this connection and in its transaction: a request
    must not close the connection as it would between real requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@contextmanager
def server_errors() -> Iterator[list[str]]:
    """What each server error raised, and where, to say so in the failure."""
    raised: list[str] = []

    def note(sender: Any, request: Any = None, **kwargs: Any) -> None:
        kind, error, tb = sys.exc_info()
        if kind is None:
            return
        frames = [f for f in traceback.extract_tb(tb) if "site-packages" not in f.filename]
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        raised.append(f"{kind.__name__}: {str(error)[:200]} at {where}")

    got_request_exception.connect(note)
    try:
        yield raised
    finally:
        got_request_exception.disconnect(note)


def real_path_parameters(operation: Any, world: World) -> dict[str, str]:
    path = operation.path
    return {
        parameter.name: world.parameter(
            parameter.name,
            after=path.split("{" + parameter.name + "}")[0],
            side=world.a,
            where=f"{operation.method.upper()} {path}",
        )
        for parameter in operation.path_parameters
    }


def etag_of(app: WSGIHandler, path: str, auth: dict[str, str]) -> str | None:
    response = WerkzeugClient(app).get(path, headers=auth)
    return response.headers.get("ETag") if response.status_code == 200 else None


@dataclass
class FuzzRun:
    operations: list[str] = field(default_factory=list)
    cases: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    # By check: one line per operation and kind of failure.
    findings: dict[str, dict[str, str]] = field(default_factory=dict)

    def found(self, check: str) -> list[str]:
        return list(self.findings.get(check, {}).values())


def fuzz(world: World, user: User) -> FuzzRun:
    schema = schemathesis.openapi.from_dict(openapi_schema())
    auth = {"Authorization": f"Token {Token.objects.create(user=user).key}"}
    run = FuzzRun()

    with wsgi_app() as app, server_errors() as raised:

        def cases_of(label: str, strategy: st.SearchStrategy[Any]) -> Callable[[], None]:
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=SEED is None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def send(case: Any) -> None:
                savepoint = transaction.savepoint()
                before = len(raised)
                try:
                    response = case.call(app=app, headers=auth)
                    run.cases[label] += 1
                    run.statuses[response.status_code] += 1
                    for check in CHECKS:
                        try:
                            case.validate_response(response, checks=[check], headers=auth)
                        except FailureGroup as failures:
                            for failure in failures.exceptions:
                                key = f"{label}: {failure.title}"
                                detail = " ".join(str(failure.message).split())[:300]
                                cause = " ".join(raised[before:])
                                run.findings.setdefault(check.__name__, {}).setdefault(
                                    key,
                                    f"{key} ({response.status_code}) {cause} {detail}\n    {case.as_curl_command()}",
                                )
                finally:
                    transaction.savepoint_rollback(savepoint)

            return seed(int(SEED))(send) if SEED is not None else send

        for result in schema.get_all_operations():
            if not isinstance(result, Ok):
                run.findings.setdefault("schema", {})[str(result)] = f"An operation cannot be tested: {result.err()}"
                continue
            operation = result.ok()
            label = f"{operation.method.upper()} {operation.path}"
            run.operations.append(label)
            real = real_path_parameters(operation, world)
            headers: dict[str, str] = {}
            if "if-match" in {p.name.lower() for p in operation.headers}:
                etag = etag_of(app, operation.path.format(**real), auth)
                if etag:
                    headers["If-Match"] = etag
            cases_of(
                label,
                st.one_of(
                    operation.as_strategy(path_parameters=real, headers=headers or None),
                    operation.as_strategy(path_parameters=real),
                    operation.as_strategy(
                        generation_mode=GenerationMode.NEGATIVE, path_parameters=real, headers=headers or None
                    ),
                    operation.as_strategy(),
                ),
            )()
    return run


@pytest.fixture(scope="module")
def fuzz_run(django_db_setup: Any, django_db_blocker: Any) -> Iterator[FuzzRun]:
    """One run for the module, in a transaction rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        seed_current()
        site_a = SiteFactory(name="Northbridge", slug="northbridge")
        site_b = SiteFactory(name="Eastmere", slug="eastmere")
        commissioner_a = UserFactory(username="fuzz-commissioner-a")
        commissioner_b = UserFactory(username="fuzz-commissioner-b")
        MembershipFactory(user=commissioner_a, site=site_a, role=Role.COMMISSIONER)
        MembershipFactory(user=commissioner_b, site=site_b, role=Role.COMMISSIONER)
        world = World(
            a=site_world(site_a, user=commissioner_a, canary="Canary-Alpha"),
            b=site_world(site_b, user=commissioner_b, canary="Canary-Bravo"),
            instrument=instrument_world(),
            reset=password_reset_world(),
        )
        run = fuzz(world, commissioner_a)
        transaction.set_rollback(True)

    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        "operations": len(run.operations),
        "cases": sum(run.cases.values()),
        "examples_per_operation": EXAMPLES,
        "statuses": dict(sorted(run.statuses.items())),
        "cases_by_operation": dict(sorted(run.cases.items())),
        "findings": {check: list(found.values()) for check, found in run.findings.items()},
    }
    ARTIFACT.write_text(json.dumps(summary, indent=2))
    print(f"schemathesis: {len(run.operations)} operations, {sum(run.cases.values())} cases, {dict(run.statuses)}")
    yield run


def test_the_fuzzing_reaches_every_operation_of_the_schema(fuzz_run: FuzzRun) -> None:
    assert not fuzz_run.found("schema")
    assert len(fuzz_run.operations) >= 50
    assert [label for label in fuzz_run.operations if fuzz_run.cases[label] == 0] == []
    # Most cases get past the access rules and validation to the real objects.
    assert sum(count for status, count in fuzz_run.statuses.items() if status < 300) > len(fuzz_run.operations) * 4


def test_the_api_never_answers_a_generated_request_with_a_server_error(fuzz_run: FuzzRun) -> None:
    found = fuzz_run.found("not_a_server_error")
    assert not found, f"{len(found)} server errors:\n" + "\n".join(found)


def test_every_status_the_api_answers_with_is_documented_in_the_schema(fuzz_run: FuzzRun) -> None:
    found = fuzz_run.found("status_code_conformance")
    assert not found, f"{len(found)} undocumented statuses:\n" + "\n".join(found)


def test_every_answer_has_the_content_type_headers_and_body_the_schema_documents(fuzz_run: FuzzRun) -> None:
    found = [
        line
        for check in ("content_type_conformance", "response_headers_conformance", "response_schema_conformance")
        for line in fuzz_run.found(check)
    ]
    assert not found, f"{len(found)} answers unlike their documentation:\n" + "\n".join(found)
