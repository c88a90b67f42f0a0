"""Helpers for API tests of writable resources, which need the ETag they read in
If-Match (core.api)."""

from typing import Any

from rest_framework.test import APIClient

CHANGES = ("put", "patch", "delete")


def etag_of(client: APIClient, url: str) -> str:
    """The resource's ETag as this client reads it; one that matches nothing when the
    client cannot read it (the request is then refused for other reasons first)."""
    return client.get(url).get("ETag") or '"0"'


def send(client: APIClient, method: str, url: str, body: Any = None, *, etag: str | None = None) -> Any:
    """A request as a well-behaved client sends it: a change carries the ETag it read."""
    headers = {}
    if method in CHANGES:
        headers["HTTP_IF_MATCH"] = etag if etag is not None else etag_of(client, url)
    if body is None:
        return getattr(client, method)(url, format="json", **headers)
    return getattr(client, method)(url, body, format="json", **headers)
