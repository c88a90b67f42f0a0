"""The API's one scheme for changing what someone else may have changed.

Every writable resource sends an `ETag` (its version, quoted) with a GET and with
the answer to a change. A PUT, PATCH or DELETE must send the ETag it read back in
`If-Match`: a missing one is 428 Precondition Required; one that no longer matches
is 412 Precondition Failed, with the resource as it is now in `current` (and its
ETag), and nothing changes. "*" is refused like a missing header: a client that
means to replace someone else's change reads it first.
"""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from .versioning import StaleSave

PRECONDITION_REQUIRED = (
    "Send the If-Match header with the ETag you last read (GET this resource first), so that a change "
    "someone else made since is not overwritten."
)
# Never the ETag of any version.
NO_MATCH = -1


class PreconditionRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = PRECONDITION_REQUIRED
    default_code = "precondition_required"


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_version(request: Request, *, fallback: int | None = None) -> int:
    """The version the client read, from If-Match. `fallback` (a version sent in the
    body, where a resource has always accepted one) stands in when the header is
    absent. A weak or malformed ETag matches no version."""
    header = (request.headers.get("If-Match") or "").strip()
    if not header or header == "*":
        if fallback is not None:
            return fallback
        raise PreconditionRequired()
    if header.startswith('"') and header.endswith('"') and header[1:-1].isdigit() and len(header) < 20:
        return int(header[1:-1])
    return NO_MATCH


def with_etag(response: Response, version: int) -> Response:
    response["ETag"] = etag(version)
    return response


def stale_response(error: StaleSave, current: dict[str, Any] | None) -> Response:
    return with_etag(
        Response(
            {"detail": error.messages[0], "code": "stale", "current": current},
            status=status.HTTP_412_PRECONDITION_FAILED,
        ),
        error.version,
    )


# Schema ---------------------------------------------------------------------------------

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description='The ETag of the resource as you last read it, for example "3". Missing: 428. '
    "No longer current (someone changed it since): 412 with the current resource, and nothing changes.",
)


def etag_header(*codes: int) -> OpenApiParameter:
    return OpenApiParameter(
        "ETag",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=list(codes),
        description="The resource's version; send it back in If-Match to change it.",
    )


ErrorSerializer = inline_serializer(
    name="ErrorDetail", fields={"detail": serializers.CharField(help_text="What went wrong, in plain words.")}
)


_stale_serializers: dict[str, Any] = {}


def precondition_responses(name: str, current: Any) -> dict[int, OpenApiResponse]:
    """412 and 428 answers for a resource whose representation is `current`. One
    component per resource, however many operations document it."""
    stale = _stale_serializers.get(name)
    if stale is None:
        stale = _stale_serializers[name] = inline_serializer(
            name=f"{name}Stale",
            fields={
                "detail": serializers.CharField(help_text="Who changed it and when; nothing was saved."),
                "code": serializers.CharField(help_text="Always `stale`."),
                "current": current,
            },
        )
    return {
        412: OpenApiResponse(stale, description="Someone changed the resource since you read it: it is in `current`."),
        428: OpenApiResponse(ErrorSerializer, description="If-Match was not sent."),
    }
