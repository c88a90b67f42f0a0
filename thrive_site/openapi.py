"""The error answers the API gives everywhere, documented once for every operation.

Endpoints document what is their own (their resource, a 409 or a 412 with the current
resource); the answers that come from the shared machinery are added here, unless an
endpoint already documents them:
- 400 for a body or query that fails validation (thrive_site.exceptions), with the
  messages by field;
- 401 without credentials, 403 for a signed-in person the action is not for (only a
  site's commissioners change it);
- 404 for a site, or an object of one, that does not exist or that the user may not see
  (never a 403: the answer does not confirm it exists), and for a page past the end.
"""

from typing import Any

ERROR_DETAIL = "ErrorDetail"
VALIDATION_ERRORS = "ValidationErrors"
CHANGES = {"post", "put", "patch", "delete"}
METHODS = {"get", "head", "options", *CHANGES}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _response(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def document_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        ERROR_DETAIL,
        {
            "type": "object",
            "properties": {"detail": {"type": "string", "description": "What went wrong, in plain words."}},
            "required": ["detail"],
        },
    )
    schemas.setdefault(
        VALIDATION_ERRORS,
        {
            "type": "object",
            "description": "The messages for each field that was refused, by field name; problems with the "
            "request as a whole are under `non_field_errors` or `detail`.",
            "additionalProperties": {},
        },
    )
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            parameters = operation.get("parameters", [])
            responses = operation.setdefault("responses", {})
            in_query = any(p.get("in") == "query" for p in parameters)
            in_path = any(p.get("in") == "path" for p in parameters)
            paged = any(p.get("in") == "query" and p.get("name") == "page" for p in parameters)
            if method in CHANGES or in_query or "requestBody" in operation:
                responses.setdefault("400", _response("The request was refused; nothing changed.", VALIDATION_ERRORS))
            responses.setdefault("401", _response("No credentials, or a token that is not valid.", ERROR_DETAIL))
            responses.setdefault(
                "403",
                _response("Signed in, but this is not for you (for example, only reading the site).", ERROR_DETAIL),
            )
            if in_path or paged:
                responses.setdefault(
                    "404",
                    _response("No such site or object, or one you may not see; or a page past the end.", ERROR_DETAIL),
                )
    return result
