"""One set of limits on what people can enter, held here.

The services check them, so a page and the API refuse the same values with the same
message; forms and serializers build their fields from the same limits so people
see the message by the field before the service is reached. Messages are plain
English that say what to do, never "Ensure this value is less than or equal to".
"""

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

# Older than any THRIVE record can be: the framework dates from 2014.
EARLIEST_DATE = date(2000, 1, 1)


def _long_date(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _number(value: int | Decimal) -> str:
    if isinstance(value, Decimal):
        return f"{value.normalize():,f}"
    return f"{value:,}"


@dataclass(frozen=True)
class DateWindow:
    """Dates a kind of date may take: from `earliest` to `days_ahead` after today."""

    what: str
    earliest: date
    days_ahead: int

    def latest(self, *, today: date | None = None) -> date:
        return (today or timezone.localdate()) + timedelta(days=self.days_ahead)

    def message(self, *, today: date | None = None) -> str:
        latest = self.latest(today=today)
        if self.days_ahead == 0:
            return f"The {self.what} must be today or in the past, and not before {_long_date(self.earliest)}"
        return f"The {self.what} must be between {_long_date(self.earliest)} and {_long_date(latest)}"

    def errors(self, value: date | None, *, today: date | None = None) -> list[str]:
        if value is None or self.earliest <= value <= self.latest(today=today):
            return []
        return [self.message(today=today)]

    def check(self, value: date | None, *, field: str, today: date | None = None) -> None:
        errors = self.errors(value, today=today)
        if errors:
            raise ValidationError({field: errors})


@dataclass(frozen=True)
class NumberLimit:
    """A whole or decimal number from `minimum` to `maximum`."""

    what: str
    minimum: int | Decimal
    maximum: int | Decimal
    unit: str = ""
    example: str = ""

    @property
    def label(self) -> str:
        return self.what[0].upper() + self.what[1:]

    def range_message(self) -> str:
        return f"{self.label} must be from {_number(self.minimum)} to {_number(self.maximum)}{self.unit}"

    def messages(self, *, whole: bool = True) -> dict[str, str]:
        """Error messages by Django's and DRF's codes, as people read them. Build form
        fields with form_messages() and serializer fields with core.serializers, which
        prepare them for how each fills in its messages."""
        kind = "a whole number" if whole else "a number"
        example = f", like {self.example}" if self.example else ""
        low = f"{self.label} must be {_number(self.minimum)}{self.unit} or more"
        high = f"{self.label} must be {_number(self.maximum)}{self.unit} or less"
        return {
            "required": f"Enter the {self.what}",
            "null": f"Enter the {self.what}",
            "invalid": f"{self.label} must be {kind}{example}",
            "min_value": low,
            "max_value": high,
            "max_digits": high,
            "max_whole_digits": high,
            "max_decimal_places": f"{self.label} can have at most 2 decimal places",
            "max_string_length": high,
        }

    def form_messages(self, *, whole: bool = True) -> dict[str, str]:
        """messages() for a Django form field. Django fills in a validator's message
        with its values (message % params), so a "%" in those (a percentage's unit)
        is doubled, or the page would fail instead of showing the message."""
        filled = {"min_value", "max_value", "max_digits", "max_decimal_places", "max_whole_digits"}
        return {
            code: message.replace("%", "%%") if code in filled else message
            for code, message in self.messages(whole=whole).items()
        }

    def errors(self, value: int | Decimal | None) -> list[str]:
        if value is None or self.minimum <= value <= self.maximum:
            return []
        return [self.range_message()]

    def check(self, value: int | Decimal | None, *, field: str) -> None:
        errors = self.errors(value)
        if errors:
            raise ValidationError({field: errors})


@dataclass(frozen=True)
class TextLimit:
    what: str
    max_length: int

    def message(self) -> str:
        return f"{self.what[0].upper()}{self.what[1:]} must be {self.max_length:,} characters or fewer"

    def messages(self) -> dict[str, str]:
        return {"max_length": self.message()}

    def errors(self, value: str | None) -> list[str]:
        if value is None or len(value) <= self.max_length:
            return []
        return [self.message()]

    def check(self, value: str | None, *, field: str) -> None:
        errors = self.errors(value)
        if errors:
            raise ValidationError({field: errors})


# Dates ---------------------------------------------------------------------------------

ROUND_DATE = DateWindow("date of the round", earliest=date(2010, 1, 1), days_ahead=366)
DUE_DATE = DateWindow("due date", earliest=date(2010, 1, 1), days_ahead=10 * 366)
# A plan step may be dated ahead (the planned start); a study or act step is recorded after.
PDSA_DATE = DateWindow("date of the step", earliest=date(2010, 1, 1), days_ahead=366)
LAST_CHECKED_DATE = DateWindow("last checked date", earliest=EARLIEST_DATE, days_ahead=0)

# Numbers -------------------------------------------------------------------------------

AGE = NumberLimit("age", 0, 25, example="5")
# The same range, named as the register's form and API name the two ends of it.
MINIMUM_AGE = replace(AGE, what="minimum age")
MAXIMUM_AGE = replace(AGE, what="maximum age", example="18")
# The largest single offers (a digital service, a whole-population programme) reach tens
# of thousands a year; a million is beyond any real locality's service.
ANNUAL_CAPACITY = NumberLimit("annual capacity", 0, 1_000_000, example="250")
WAIT_WEEKS = NumberLimit("typical wait", 0, 260, " weeks", example="6")
CAPACITY_SHARE = NumberLimit("share of capacity", 0, 100, "%", example="40")
# England's largest local authority has fewer than 400,000 people in any one band.
PEOPLE_IN_A_BAND = NumberLimit("number of people", 0, 5_000_000, example="21000")
PERCENT = NumberLimit("percentage", Decimal(0), Decimal(100), "%", example="50")
MEASURE = NumberLimit("measure", Decimal(0), Decimal(1_000_000_000), example="45")
PERCENT_MEASURE = NumberLimit("measure", Decimal(0), Decimal(100), "%", example="45")
PRINCIPLE_WEIGHT = NumberLimit("weight", Decimal(0), Decimal(3), example="1.5")
# A site's gap analysis targets: two years is beyond any waiting-time standard.
WAIT_TARGET = NumberLimit("maximum wait target", 0, 104, " weeks", example="18")
SELF_REFERRAL_TARGET = NumberLimit("self-referral target", 0, 100, "%", example="50")
MANUAL_RANK = NumberLimit("position", 1, 999, example="1")

PERCENT_UNITS = frozenset({"%", "percent", "per cent", "percentage"})


def measure_limit(unit: str) -> NumberLimit:
    """An evidence measure's range for its unit: a percentage ("%", "% of services",
    "percentage of schools") from 0 to 100, any other count or rate from 0 up; never
    negative."""
    words = unit.strip().lower()
    return PERCENT_MEASURE if words.startswith(tuple(PERCENT_UNITS)) else MEASURE


# Text ----------------------------------------------------------------------------------

NAME = TextLimit("the name", 160)
NOTES = TextLimit("notes", 4000)
EVIDENCE = TextLimit("evidence", 4000)
DESCRIPTION = TextLimit("the description", 4000)
OFFER_DESCRIPTION = TextLimit("the description of the offer", 500)
DISMISS_REASON = TextLimit("the reason", 2000)
OWNER = TextLimit("the owner", 120)
PDSA_NOTE = TextLimit("the description of the step", 4000)
PARTICIPANT = TextLimit("the name or role", 80)
PHONE = TextLimit("the phone number", 40)
# The database's own bounds for a URLField and an EmailField (RFC 5321's 254).
WEB_ADDRESS = TextLimit("the web address", 200)
EMAIL = TextLimit("the email address", 254)
