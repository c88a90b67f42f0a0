"""URLs and data for the assessment tests of stale saves, limits and history."""

import datetime

from django.urls import reverse

from assessment.models import Item, Rating, Round

HELD_ON = datetime.date(2026, 3, 1)


def item_of(round_: Round, code: str = "system-common-language") -> Item:
    return Item.objects.select_related("part", "principle").get(instrument=round_.instrument, code=code)


def round_api(round_: Round, suffix: str = "") -> str:
    return reverse("api-round-detail", kwargs={"site_slug": round_.site.slug, "public_id": round_.public_id}) + suffix


def rating_api(rating: Rating) -> str:
    return round_api(rating.round, f"ratings/{rating.public_id}/")


def page_of(round_: Round, name: str, **extra: str) -> str:
    return reverse(f"assessment:{name}", kwargs={"site_slug": round_.site.slug, "public_id": round_.public_id, **extra})


def item_page(round_: Round, name: str, code: str = "system-common-language") -> str:
    return page_of(round_, name, part_code=code.split("-", 1)[0], item_code=code)


def remove_page(rating: Rating) -> str:
    return page_of(
        rating.round,
        "round-rating-remove",
        part_code=rating.item.part.code,
        item_code=rating.item.code,
        rating_id=str(rating.public_id),
    )
