"""Schemathesis over /api/schema/ against a live server, signed in with an admin's API token of a
workspace seeded with the demo data of every app (so lists and details answer real rows: blank
categories, nulls, decimals): no 500, and every response conforms to the schema (status codes,
content types, bodies, headers). Every operation of every app's API is fuzzed, as the schema lists
them, with every check schemathesis has except the two that judge validation strictness (below).
Updates are sent with the version just read, so the fuzzer reaches the write and not only the 409.

A second test calls every GET with the ids of the seeded rows and validates each response, so a
detail, a custom action or a nested object that breaks its schema fails even when random ids
would only ever reach 404.

A bounded run (FUZZ_EXAMPLES examples per operation and generation mode) is in the normal suite;
`make fuzz` runs 500 per operation (`--fuzz-examples=500`, or the FUZZ_EXAMPLES variable).
"""

import contextlib
import os
import re

import pytest
import requests
import schemathesis
import schemathesis.specs.openapi.checks  # noqa: F401  (registers the OpenAPI checks)
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS as REGISTERED_CHECKS

from pmhub.models import Role
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory, make_token

from .matrix import Route, load_registry

pytestmark = pytest.mark.django_db(transaction=True)

DEFAULT_EXAMPLES = 3
# Every check schemathesis has ("--checks all"), but two that judge validation strictness rather
# than safety or the truth of the schema: schema-valid input that a rule refuses (an id of a
# product you cannot see, dates in the wrong order, a stale version) is a documented 400/404/409,
# and DRF ignores what it does not read (a malformed page_size, an unknown query parameter). The
# generated tests of tests/security cover those classes with their exact answers instead.
NOT_CHECKED = {"positive_data_acceptance", "negative_data_rejection"}
CHECKS = [c for c in REGISTERED_CHECKS.get_all() if c.__name__ not in NOT_CHECKED]
WRITE_METHODS = ("PUT", "PATCH")


_SCHEMAS: dict = {}


def _schema(base_url):
    """The schema as the live server serves it, read once per test process (the live server is one
    per process and the schema depends on the code only): building it and loading it into
    schemathesis took 5-10 s, which every shard paid again."""
    if base_url not in _SCHEMAS:
        # Read with a generous timeout: building the 1.3 MB schema on a busy CI machine can take longer
        # than schemathesis's own 10 s.
        response = requests.get(f"{base_url}/api/schema/?format=json", timeout=300)
        response.raise_for_status()
        _SCHEMAS[base_url] = schemathesis.openapi.from_dict(response.json())
    return _SCHEMAS[base_url]


def _examples(config) -> int:
    return config.getoption("--fuzz-examples", default=None) or int(os.environ.get("FUZZ_EXAMPLES", DEFAULT_EXAMPLES))


@pytest.fixture
def seeded(settings):
    """An admin token of a workspace holding every app's demo data."""
    from importlib import import_module

    from pmhub.management.commands.seed_demo import APP_SEEDERS

    # The fuzzer is a legitimate heavy client: throttling is tested in test_abuse_limits.py.
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"token": "1000000/min", "address": "1000000/min"}}
    workspace = WorkspaceFactory(name="Fuzz", slug="fuzz")
    admin = UserFactory(email="fuzz-admin@example.com")
    MembershipFactory(user=admin, workspace=workspace, role=Role.ADMIN)
    for path in APP_SEEDERS:
        import_module(path).seed(workspace=workspace, users={"demo": admin})
    # And one object of every API resource (the tenancy matrix's builders): webhooks, share links,
    # snapshots, saved views, imports, ... that the demo does not make.
    for route in load_registry().api.values():
        if isinstance(route, Route):
            route.build(workspace)
    return make_token(user=admin, workspace=workspace, scope="write")


def _with_current_version(case, base_url, headers) -> None:
    """An update names the version it read (409 otherwise): read it, as a client would."""
    if case.method.upper() not in WRITE_METHODS or not isinstance(case.body, dict):
        return
    path = case.formatted_path if hasattr(case, "formatted_path") else case.path.format(**(case.path_parameters or {}))
    current = requests.get(f"{base_url}{path}", headers=headers, timeout=30)
    if current.status_code == 200 and isinstance(current.json(), dict) and "version" in current.json():
        case.body["version"] = current.json()["version"]


def _fuzz(operation, mode, examples, base_url, headers) -> int:
    """Run one operation in one generation mode; returns the number of cases sent."""
    sent: list = []

    @hypothesis_settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        sent.append(1)
        if mode is GenerationMode.POSITIVE:
            _with_current_version(case, base_url, headers)
        response = case.call(base_url=base_url, headers=headers)
        case.validate_response(response, headers=headers, checks=CHECKS)

    try:
        run()
    finally:
        _fuzz.sent = len(sent)
    return len(sent)


# The operations are dealt round-robin into SHARDS tests, so the parallel test processes share the
# fuzzing instead of one of them running it all at the end of the suite.
SHARDS = 4


@pytest.mark.parametrize("shard", range(SHARDS))
def test_api_survives_fuzzing_and_matches_its_schema(live_server, seeded, request, shard):
    examples = _examples(request.config)
    schema = _schema(live_server.url)
    headers = {"Authorization": f"Token {seeded}"}
    failures, cases, operations = [], 0, 0
    for index, result in enumerate(schema.get_all_operations()):
        if index % SHARDS != shard:
            continue
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, examples, live_server.url, headers)
            except Unsatisfiable:
                # Nothing in this operation can be made invalid (e.g. a GET without parameters).
                if mode is not GenerationMode.NEGATIVE:
                    failures.append(f"{operation.label} [{mode.value}]: no case could be generated")
            except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failure, then fail once
                failures.append(f"{operation.label} [{mode.value}]: {str(exc)[:2000]}")
            cases += _fuzz.sent
    print(f"schemathesis: {cases} cases over {operations} operations ({examples} examples per operation and mode, "
          f"{len(CHECKS)} checks)")
    assert not failures, "\n\n".join(failures)


# Detail routes whose ids are another list's (the backlog settings of a product).
ALIASES = {"/api/v1/backlog-products/": "/api/v1/products/", "/api/v1/discovery-intake/": "/api/v1/products/"}


def _ids(body) -> list[int]:
    items = body.get("results") if isinstance(body, dict) and "results" in body else body
    return [x["id"] for x in items if isinstance(x, dict) and "id" in x][:2] if isinstance(items, list) else []


def test_every_read_of_real_rows_matches_its_schema(live_server, seeded):
    """Every GET of the schema: the lists first (their ids feed the rest), then every detail and
    detail action with the ids of seeded rows. Each response is validated with every check."""
    schema = _schema(live_server.url)
    headers = {"Authorization": f"Token {seeded}"}
    reads = [r.ok() for r in schema.get_all_operations() if r.ok().method.upper() == "GET"]
    ids, failures, calls, unreached = {}, [], 0, []

    def call(operation, path_parameters=None):
        nonlocal calls
        case = operation.Case(path_parameters=path_parameters or {})
        response = case.call(base_url=live_server.url, headers=headers)
        calls += 1
        try:
            case.validate_response(response, headers=headers, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.label} {path_parameters or ''}: {str(exc)[:2000]}")
        return response

    for operation in [o for o in reads if "{" not in o.path]:
        response = call(operation)
        if response.status_code == 200:
            with contextlib.suppress(ValueError):  # not JSON (a CSV export)
                ids[operation.path] = _ids(response.json())
    for operation in [o for o in reads if "{" in o.path]:
        names = re.findall(r"{(\w+)}", operation.path)
        listed_at = operation.path.split("{")[0]
        found = ids.get(ALIASES.get(listed_at, listed_at)) or []
        if not found:
            unreached.append(operation.label)
        for pk in found:
            call(operation, dict.fromkeys(names, pk))
    print(f"real-row reads: {calls} responses validated over {len(reads)} GET operations; "
          f"no seeded row for {len(unreached)}: {unreached}")
    assert not failures, "\n\n".join(failures)
