"""How the API reads JSON bodies."""

from collections.abc import Mapping
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


def _holds_nul(data: Any) -> bool:
    # Walked with a stack rather than recursion: a body may nest as deep as the
    # JSON decoder allows.
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, Mapping):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing with a 400 what would otherwise fail later as a 500.

    PostgreSQL cannot store the NUL character in text or JSON, and a field that takes
    free-form keys (a dictionary of weights) has no serializer check to stop it; a
    body nested deeper than Python's decoder can go fails in the decoder itself.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
        if _holds_nul(data):
            raise ParseError(
                "JSON parse error - text cannot contain the NUL character (\\u0000). Remove it and send again."
            )
        return data


NUL_IN_FORM = "Form data cannot contain the NUL character (%00). Remove it and send again."


def _form_holds_nul(data: Any) -> bool:
    return any("\x00" in key or any("\x00" in value for value in data.getlist(key)) for key in data)


class FormParser(parsers.FormParser):
    """DRF's form parser with the same refusal of the NUL character as JSONParser."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        if _form_holds_nul(data):
            raise ParseError(NUL_IN_FORM)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser with the same refusal of the NUL character as JSONParser."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        result = super().parse(stream, media_type, parser_context)
        if _form_holds_nul(result.data) or any("\x00" in name for name in result.files):
            raise ParseError(NUL_IN_FORM)
        return result
