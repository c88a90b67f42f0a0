from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def in_words(value: timedelta) -> str:
    """A length of time as people say it: "15 minutes", "1 hour, 30 minutes"."""
    now = timezone.now()
    return timesince(now - value, now)
