"""The schema documents the answers that happen: a client reading it learns that a write
can be refused (400), that a site or object may not be there for them (404), that a
request needs credentials (401) or a role (403), and, for a resource changed with
If-Match, that a stale ETag is a 412 with the current resource and, where the header
is required, that a missing one is a 428.

The shared answers come from thrive_site/openapi.py; 412 and 428 from each endpoint
(core.api.precondition_responses), so these tests hold every endpoint that takes
If-Match to documenting them. test_api_fuzz checks that no other status happens.
"""

from typing import Any

from thrive_site.tests.openapi import WRITES, openapi_schema, operations


def header_parameters(operation: dict[str, Any]) -> set[str]:
    return {p["name"].lower() for p in operation.get("parameters", []) if p.get("in") == "header"}


def if_match_required(operation: dict[str, Any]) -> bool:
    return any(
        p["name"].lower() == "if-match" and p.get("required", False)
        for p in operation.get("parameters", [])
        if p.get("in") == "header"
    )


def has_path_parameters(operation: dict[str, Any]) -> bool:
    return any(p.get("in") == "path" for p in operation.get("parameters", []))


def test_every_write_documents_a_refusal_and_a_missing_site_or_object() -> None:
    schema = openapi_schema()
    missing = [
        f"{method} {path}: {code}"
        for method, path, operation in operations(schema)
        if method.lower() in WRITES
        for code in ("400", "404")
        if code not in operation["responses"]
    ]
    assert missing == []


def test_every_operation_documents_401_and_403_and_404_where_it_names_a_site_or_object() -> None:
    schema = openapi_schema()
    missing = [
        f"{method} {path}: {code}"
        for method, path, operation in operations(schema)
        for code in ("401", "403", *(("404",) if has_path_parameters(operation) else ()))
        if code not in operation["responses"]
    ]
    assert missing == []


def test_every_operation_that_takes_if_match_documents_412_with_the_current_resource_and_428_if_required() -> None:
    schema = openapi_schema()
    with_if_match = [
        (method, path, operation)
        for method, path, operation in operations(schema)
        if "if-match" in header_parameters(operation)
    ]
    missing = [
        f"{method} {path}: {code}"
        for method, path, operation in with_if_match
        # An optional If-Match (a state change that may also go without) is never a 428.
        for code in (("412", "428") if if_match_required(operation) else ("412",))
        if code not in operation["responses"]
    ]
    assert missing == []
    for method, path, operation in with_if_match:
        assert "current" in stale_body_properties(schema, operation), f"{method} {path}: 412 without `current`"
    # Organisations were the first to take If-Match; the test must not pass by finding none.
    assert any("/organisations/" in path for _, path, _ in with_if_match)


def test_every_create_only_if_absent_documents_412() -> None:
    schema = openapi_schema()
    missing = [
        f"{method} {path}"
        for method, path, operation in operations(schema)
        if "if-none-match" in header_parameters(operation) and "412" not in operation["responses"]
    ]
    assert missing == []


def stale_body_properties(schema: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    body = operation["responses"]["412"].get("content", {}).get("application/json", {}).get("schema", {})
    while "$ref" in body:
        node: Any = schema
        for part in body["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        body = node
    return set(body.get("properties", {}))
