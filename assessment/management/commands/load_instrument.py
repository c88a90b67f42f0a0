"""Load a version of the THRIVE Assessment Tool from a JSON file.

With no path, loads the project's draft that ships with the product (and does
nothing if that version is already loaded). Existing versions never change.
"""

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessment.models import Instrument
from assessment.services import instrument_load

DEFAULT_INSTRUMENT = Path(__file__).resolve().parents[2] / "instruments" / "thrive_assessment_draft_v1.json"


def read_instrument_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise CommandError(f"Cannot read {path}: {error}") from error
    if not isinstance(data, dict):
        raise CommandError(f"{path} does not hold an instrument (expected a JSON object).")
    return data


def load_default_instrument() -> Instrument:
    """The bundled draft, loaded once."""
    data = read_instrument_file(DEFAULT_INSTRUMENT)
    existing = Instrument.objects.filter(version=data["version"]).first()
    return existing or instrument_load(data=data)


class Command(BaseCommand):
    help = "Load a version of the THRIVE Assessment Tool from a JSON file (default: the bundled project draft)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", type=Path, help="Instrument file; see assessment/instruments/.")

    def handle(self, *args: Any, path: Path | None = None, **options: Any) -> None:
        if path is None:
            instrument = load_default_instrument()
            self.stdout.write(f"Instrument {instrument.version} is loaded ({instrument.items.count()} items).")
            return
        try:
            instrument = instrument_load(data=read_instrument_file(path))
        except ValidationError as error:
            problems = "\n".join(f"- {message}" for messages in error.message_dict.values() for message in messages)
            raise CommandError(f"{path} was not loaded; nothing changed:\n{problems}") from error
        self.stdout.write(self.style.SUCCESS(f"Loaded {instrument} with {instrument.items.count()} items."))
