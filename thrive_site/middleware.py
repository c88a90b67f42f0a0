"""Request and response rules that hold for every page and API endpoint."""

import unicodedata
from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers


def _has_control_character(text: str) -> bool:
    return any(unicodedata.category(character) == "Cc" for character in text)


class ControlCharacterPathMiddleware:
    """A path holding a control character (NUL, newline, DEL...) names nothing: 404.

    Free-text path parameters (an improvement key, an instrument version, the admin's
    object ids) would otherwise carry a NUL into a PostgreSQL query, which refuses it
    with an error. Checked once here, before URL resolution, so every route, page or
    API, present or future, is covered without a check in each view or converter.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if _has_control_character(request.path_info):
            raise Http404("No page has this address.")
        return self.get_response(request)


class NoStoreForSignedInUsersMiddleware:
    """Pages and API answers for a signed-in user hold that user's data: no browser or
    proxy may keep a copy (a shared computer's back button, a caching proxy).

    Static files never reach this middleware: WhiteNoise answers them earlier.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        # Read after the view: the API authenticates tokens inside the view and sets
        # request.user there.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
