"""Load a version of the THRIVE Assessment Tool from a JSON file.

With no path, loads the project's draft that ships with the product (and does
nothing if that version is already loaded). Existing versions never change. The
file is checked exactly as the page that loads a new version checks it.
"""

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessment.instrument_file import MAX_FILE_BYTES, TOO_LARGE_MESSAGE, instrument_file_read
from assessment.models import Instrument
from assessment.services import instrument_load

DEFAULT_INSTRUMENT = Path(__file__).resolve().parents[2] / "instruments" / "thrive_assessment_draft_v1.json"


def _problems(error: ValidationError) -> str:
    return "\n".join(f"- {message}" for message in error.messages)


def read_instrument_file(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CommandError(f"{path} was not loaded; nothing changed:\n- {TOO_LARGE_MESSAGE}")
        content = path.read_bytes()
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror or error}") from error
    try:
        return instrument_file_read(content)
    except ValidationError as error:
        raise CommandError(f"{path} was not loaded; nothing changed:\n{_problems(error)}") from error


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
            raise CommandError(f"{path} was not loaded; nothing changed:\n{_problems(error)}") from error
        self.stdout.write(self.style.SUCCESS(f"Loaded {instrument} with {instrument.items.count()} items."))
