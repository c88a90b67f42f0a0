"""The OpenAPI schema as the API serves it, for the tests that read or fuzz it."""

import json
from typing import Any

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

METHODS = ("get", "head", "options", "post", "put", "patch", "delete")
WRITES = ("post", "put", "patch", "delete")


def openapi_schema() -> dict[str, Any]:
    """The schema exactly as /api/schema/ serves it (postprocessing hooks included)."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated, renderer_context={}))


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) for every operation."""
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
