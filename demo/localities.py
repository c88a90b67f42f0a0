"""Reading the demo's data files, before anything is written.

Every `*.json` file in `demo/localities/` is a locality, loaded in file-name order
(the order `load_demo` prints them in); `demo/accounts.json` holds the accounts that
belong to no locality. Both are checked against `demo/schema.json`, then for names
that must match inside and across files. Every problem is reported at once, with the
file and the place in it.
"""

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from jsonschema import Draft202012Validator

DEMO_DIR = Path(__file__).resolve().parent
LOCALITIES_DIR = DEMO_DIR / "localities"
ACCOUNTS_FILE = DEMO_DIR / "accounts.json"
SCHEMA = json.loads((DEMO_DIR / "schema.json").read_text(encoding="utf-8"))


def _validator(definition: str) -> Any:
    # The whole schema with its root pointed at one definition, so the $refs between
    # definitions resolve the same way for every kind of file.
    schema = {**SCHEMA, "$ref": f"#/$defs/{definition}"}
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


LOCALITY_VALIDATOR = _validator("locality")
ACCOUNTS_VALIDATOR = _validator("accounts")


@dataclass(frozen=True)
class Problem:
    path: Path
    place: str
    message: str

    def __str__(self) -> str:
        where = f", at {self.place}" if self.place else ""
        return f"{_shown(self.path)}{where}: {self.message}"


class DemoDataError(Exception):
    """Demo data files that cannot be loaded; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        listed = "\n".join(f"- {problem}" for problem in problems)
        super().__init__(f"The demo data was not loaded; nothing changed:\n{listed}")


@dataclass(frozen=True)
class DataFile:
    """One file's data, already checked against the schema."""

    path: Path
    data: dict[str, Any]

    def problem(self, place: str, message: str) -> Problem:
        return Problem(self.path, place, message)

    @contextmanager
    def at(self, place: str, label: str = "") -> Iterator[None]:
        """Report a service's ValidationError as a problem at this place in the file."""
        try:
            yield
        except ValidationError as error:
            named = f" ({label})" if label else ""
            fields = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
            raise DemoDataError(
                [
                    self.problem((place if field == NON_FIELD_ERRORS else f"{place}.{field}") + named, message)
                    for field, messages in fields.items()
                    for message in messages
                ]
            ) from error


@dataclass(frozen=True)
class DemoData:
    localities: tuple[DataFile, ...]
    accounts: DataFile


def demo_data_read(*, localities_dir: Path | None = None) -> DemoData:
    """Read and check every demo file; raise DemoDataError listing every problem."""
    localities_dir = localities_dir or LOCALITIES_DIR
    problems: list[Problem] = []
    paths = sorted(localities_dir.glob("*.json"))
    if not paths:
        problems.append(Problem(localities_dir, "", "There are no locality files (*.json) here."))
    localities = [_read(path, LOCALITY_VALIDATOR, problems) for path in paths]
    accounts = _read(ACCOUNTS_FILE, ACCOUNTS_VALIDATOR, problems)
    if problems or accounts is None:
        raise DemoDataError(problems)
    demo = DemoData(localities=tuple(f for f in localities if f is not None), accounts=accounts)
    problems = _name_problems(demo)
    if problems:
        raise DemoDataError(problems)
    return demo


def _read(path: Path, validator: Any, problems: list[Problem]) -> DataFile | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        problems.append(Problem(path, "", f"Cannot read the file: {error.strerror}."))
        return None
    except json.JSONDecodeError as error:
        problems.append(Problem(path, f"line {error.lineno}, column {error.colno}", f"Not valid JSON: {error.msg}."))
        return None
    errors = sorted(validator.iter_errors(data), key=_in_file_order)
    problems.extend(Problem(path, _place(error.json_path), error.message) for error in errors)
    return None if errors else DataFile(path, data)


def _in_file_order(error: Any) -> list[tuple[int, int | str]]:
    # services[3] before services[10]; a position never holds both an index and a key.
    return [(0, step) if isinstance(step, int) else (1, step) for step in error.absolute_path]


def _place(json_path: str) -> str:
    return "the top level" if json_path == "$" else json_path.removeprefix("$.")


def _name_problems(demo: DemoData) -> list[Problem]:
    """Names one part of the data uses to refer to another must exist, once."""
    problems: list[Problem] = []
    for locality in demo.localities:
        data = locality.data
        organisations = _unique(locality, "organisations", "name", problems)
        areas = _unique(locality, "areas", "name", problems)
        if data["recorded_by"] not in {account["username"] for account in data["accounts"]}:
            problems.append(
                locality.problem("recorded_by", f"{data['recorded_by']!r} is not one of this locality's accounts.")
            )
        for index, service in enumerate(data["services"]):
            place = f"services[{index}]"
            if service["organisation"] not in organisations:
                problems.append(
                    locality.problem(
                        f"{place}.organisation", f"{service['organisation']!r} is not one of the organisations listed."
                    )
                )
            for name in service.get("areas", []):
                if name not in areas:
                    problems.append(locality.problem(f"{place}.areas", f"{name!r} is not one of the areas listed."))
    slugs = Counter(locality.data["slug"] for locality in demo.localities)
    for locality in demo.localities:
        if slugs[locality.data["slug"]] > 1:
            problems.append(locality.problem("slug", f"Another locality file has the slug {locality.data['slug']!r}."))
    owners = [(locality, account) for locality in demo.localities for account in locality.data["accounts"]]
    owners += [(demo.accounts, account) for account in demo.accounts.data["accounts"]]
    usernames = Counter(account["username"] for _, account in owners)
    for file, account in owners:
        if usernames[account["username"]] > 1:
            problems.append(file.problem("accounts", f"The username {account['username']!r} is used more than once."))
    if demo.accounts.data["api_token_for"] not in usernames:
        problems.append(
            demo.accounts.problem(
                "api_token_for", f"{demo.accounts.data['api_token_for']!r} is not the username of a demo account."
            )
        )
    return problems


def _unique(locality: DataFile, key: str, field: str, problems: list[Problem]) -> set[str]:
    names = Counter(entry[field] for entry in locality.data[key])
    for index, entry in enumerate(locality.data[key]):
        if names[entry[field]] > 1:
            problems.append(locality.problem(f"{key}[{index}].{field}", f"{entry[field]!r} is listed more than once."))
    return set(names)


def _shown(path: Path) -> str:
    """The path from the project's root when the file is inside it, as people type it."""
    try:
        return str(path.relative_to(settings.BASE_DIR))
    except ValueError:
        return str(path)
