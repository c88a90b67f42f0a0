from django import template
from django.urls import NoReverseMatch, reverse

from assessment.models import Instrument

register = template.Library()


@register.simple_tag
def instrument_url(instrument: Instrument) -> str:
    """The instrument's page, or "" for a version loaded before versions were checked
    that no address can hold (one with a line break): it is listed without a link
    rather than breaking the page for everyone."""
    try:
        return reverse("instruments:instrument-detail", kwargs={"version": instrument.version})
    except NoReverseMatch:
        return ""
