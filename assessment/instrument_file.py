"""Reading and checking an instrument file, before anything touches the database.

The page that loads a new version and `manage.py load_instrument` both read the file
with `instrument_file_read` and `instrument_load` checks its content with
`instrument_file_problems`: the format (assessment/instruments/schema.json, checked
with jsonschema) and the rules a schema cannot state. Every problem is reported in
plain English with where it is in the file, so a file can be fixed in one go.
"""

import json
import unicodedata
from collections.abc import Generator, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from jsonschema import Draft202012Validator
from jsonschema import ValidationError as SchemaError
from jsonschema.validators import extend

SCHEMA_PATH = Path(__file__).resolve().parent / "instruments" / "schema.json"
# The project's draft is about 30 KB; anything far larger is not an instrument file.
MAX_FILE_BYTES = 2 * 1024 * 1024
TOO_LARGE_MESSAGE = f"The file must be smaller than {MAX_FILE_BYTES // (1024 * 1024)} MB. Choose an instrument file"
# The format nests four levels deep (the file, its items, an item, its descriptors).
MAX_DEPTH = 8
# Past this many, more messages bury the first ones; the rest show once these are fixed.
MAX_PROBLEMS_SHOWN = 20
# The version is the last part of a page address: this one would be the upload page.
RESERVED_VERSIONS = frozenset({"load"})
# Sections in the order they appear in a file, so problems are listed top to bottom.
SECTIONS = ("version", "name", "is_draft", "note", "scale", "parts", "principles", "items")
SECTION_OF_FILE = "file"
# A part's label stands in for its short label when it is short enough.
SHORT_LABEL_MAX_LENGTH = 40

Path_ = tuple[str | int, ...]
Problem = tuple[Path_, str]


def instrument_file_read(content: bytes) -> dict[str, Any]:
    """The instrument in a file's bytes, or a ValidationError saying why it is not one."""
    if len(content) > MAX_FILE_BYTES:
        raise ValidationError(TOO_LARGE_MESSAGE)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError("The file is not UTF-8 text. Save it as a UTF-8 JSON file and try again") from None
    try:
        data = json.loads(text, object_pairs_hook=_refuse_repeated_names, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise ValidationError(
            f"The file is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}. "
            "Check it was saved as a JSON file and try again"
        ) from None
    except RecursionError:
        raise ValidationError(_too_deep_message()) from None
    except _NotJson as error:
        raise ValidationError(f"The file is not valid JSON: {error}") from None
    except ValueError:
        # Python refuses to read integers of more than a few thousand digits.
        raise ValidationError("The file holds a number too long to read. Use small whole numbers") from None
    if not isinstance(data, dict):
        raise ValidationError("The file must hold one instrument: a JSON object with a version, name and items")
    if _depth(data) > MAX_DEPTH:
        raise ValidationError(_too_deep_message())
    return data


class _NotJson(ValueError):
    pass


def _refuse_repeated_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise _NotJson(
            f"one object gives {_quoted(repeated[0])} twice. Give each name once, or the second would silently win"
        )
    return dict(pairs)


def _refuse_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a number JSON allows. Use a whole number")


def _too_deep_message() -> str:
    return f"The file nests lists or objects more than {MAX_DEPTH} levels deep; an instrument file has at most 4"


def _depth(data: Any) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return deepest


# The format -------------------------------------------------------------------------


def _is_whole_number(checker: Any, instance: Any) -> bool:
    # JSON Schema counts 2.0 as an integer; the scale must be written as whole numbers.
    return isinstance(instance, int) and not isinstance(instance, bool)


_Validator = extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_whole_number),
)


@cache
def instrument_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@cache
def _validator() -> Any:
    schema = instrument_schema()
    Draft202012Validator.check_schema(schema)
    return _Validator(schema)


def instrument_file_problems(data: Mapping[str, Any]) -> list[Problem]:
    """Every problem in an instrument's data, in file order, with where each one is."""
    schema = list(_schema_problems(data))
    # Text the schema already refused (a NUL in a label) is reported once, by the schema.
    refused = {path for path, _ in schema}
    text = [problem for problem in _text_problems(data) if problem[0] not in refused]
    unique = list(dict.fromkeys([*schema, *text, *_rule_problems(data)]))
    return sorted(unique, key=lambda problem: _file_order(problem[0]))


def instrument_file_error(problems: list[Problem]) -> ValidationError:
    """One ValidationError listing the problems, keyed by the section of the file each
    is in (version, scale, parts, principles, items... or file)."""
    shown = problems[:MAX_PROBLEMS_SHOWN]
    by_section: dict[str, list[str]] = {}
    for path, message in shown:
        section = str(path[0]) if path and path[0] in SECTIONS else SECTION_OF_FILE
        by_section.setdefault(section, []).append(message)
    hidden = len(problems) - len(shown)
    if hidden:
        by_section.setdefault(SECTION_OF_FILE, []).append(
            f"And {hidden} more problem{'s' if hidden != 1 else ''}. Fix these and load the file again to see the rest."
        )
    return ValidationError(by_section)


def _file_order(path: Path_) -> tuple[Any, ...]:
    head = path[0] if path else ""
    rank = SECTIONS.index(head) if head in SECTIONS else -1
    return (rank, *((0, part, "") if isinstance(part, int) else (1, 0, part) for part in path[1:]))


def _schema_problems(data: Mapping[str, Any]) -> Iterator[Problem]:
    for error in _validator().iter_errors(data):
        path = tuple(error.absolute_path)
        yield from ((path, message) for message in _schema_messages(error, data))


def _schema_messages(error: SchemaError, data: Mapping[str, Any]) -> list[str]:
    path = tuple(error.absolute_path)
    where = _where(path, data)
    custom = error.schema.get("x-messages", {}).get(error.validator) if isinstance(error.schema, dict) else None
    if custom:
        return [f"{where} {custom}."]
    instance = error.instance
    value = error.validator_value
    match error.validator:
        case "required":
            missing = [name for name in value if isinstance(instance, dict) and name not in instance]
            return [f"{where} has no {_field_words((name,))}." for name in missing]
        case "additionalProperties":
            known = set(error.schema.get("properties", {}))
            extra = [name for name in instance if name not in known]
            return [
                f"{where} has {_quoted(name)}, which the format does not have. Check its spelling against the "
                "project's draft."
                for name in extra
            ]
        case "type":
            return [f"{where} must be {_type_words(value)}."]
        case "minLength":
            return [f"{where} must not be empty."]
        case "maxLength":
            return [f"{where} must be {value:,} characters or fewer (it has {len(instance):,})."]
        case "minimum":
            return [f"{where} must be {value} or more."]
        case "maximum":
            return [f"{where} must be {value} or less."]
        case "minItems":
            return [f"The file needs at least {value} {_noun(path, value)}."]
        case "maxItems":
            return [f"The file can have at most {value} {_noun(path, value)} (it has {len(instance)})."]
        case "maxProperties":
            return [f"{where} can have at most {value} entries (it has {len(instance)})."]
        case "enum":
            return [f"{where} must be one of {', '.join(_quoted(v) for v in value)}."]
    return [f"{where} is not in the format of an instrument file ({error.message})."]


def _text_problems(data: Mapping[str, Any]) -> Iterator[Problem]:
    """Text the database cannot store (the NUL character, half of a surrogate pair),
    anywhere in the file, names included."""
    stack: list[tuple[Path_, Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for name, child in value.items():
                if _unstorable(name):
                    yield path, f"{_where(path, data)} has a name holding a character that is not text (NUL)."
                stack.append(((*path, name), child))
        elif isinstance(value, list):
            stack.extend(((*path, index), child) for index, child in enumerate(value))
        elif isinstance(value, str) and _unstorable(value):
            yield path, f"{_where(path, data)} holds a character that is not text (NUL or a broken character)."


def _unstorable(text: str) -> bool:
    return "\x00" in text or any(unicodedata.category(character) == "Cs" for character in text)


# Rules beyond the format ------------------------------------------------------------


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _entries(data: Mapping[str, Any], section: str) -> list[tuple[int, dict[str, Any]]]:
    value = data.get(section)
    if not isinstance(value, list):
        return []
    return [(index, entry) for index, entry in enumerate(value) if isinstance(entry, dict)]


def _rule_problems(data: Mapping[str, Any]) -> Iterator[Problem]:
    version = data.get("version")
    if isinstance(version, str) and version in RESERVED_VERSIONS:
        yield ("version",), f"The version cannot be {_quoted(version)}: that is the address of the upload page."

    scores = yield from _scale_problems(data)

    codes: dict[str, list[str]] = {}
    for section in ("parts", "principles"):
        seen: dict[str, int] = {}
        for index, entry in _entries(data, section):
            code = entry.get("code")
            if not isinstance(code, str):
                continue
            if code in seen:
                yield (
                    (section, index, "code"),
                    f"{_where((section, index), data)} has the same code as {_noun((section,), 1)} {seen[code] + 1}. "
                    "Give each a code of its own.",
                )
            else:
                seen[code] = index
        codes[section] = list(seen)

    for index, entry in _entries(data, "parts"):
        label = entry.get("label")
        if "short_label" not in entry and isinstance(label, str) and len(label) > SHORT_LABEL_MAX_LENGTH:
            yield (
                ("parts", index, "short_label"),
                f"{_where(('parts', index), data)} needs a short_label of {SHORT_LABEL_MAX_LENGTH} characters or "
                f"fewer, for the page tabs: its label is {len(label)} characters long.",
            )

    used: dict[str, set[str]] = {"parts": set(), "principles": set()}
    pairs: dict[tuple[str, str], int] = {}
    item_codes: dict[str, int] = {}
    for index, item in _entries(data, "items"):
        where = _where(("items", index), data)
        part, principle = item.get("part"), item.get("principle")
        for section, reference, word in (("parts", part, "part"), ("principles", principle, "principle")):
            if isinstance(reference, str) and codes[section] and reference not in codes[section]:
                yield (
                    ("items", index, word),
                    f"{where} names a {word} that is not in the file: {_quoted(reference)}. "
                    f"Use one of {', '.join(_quoted(c) for c in codes[section])}.",
                )
            elif isinstance(reference, str):
                used[section].add(reference)
        if isinstance(part, str) and isinstance(principle, str):
            if (part, principle) in pairs:
                yield (
                    ("items", index),
                    f"{where} repeats the part and principle of item {pairs[part, principle] + 1}: "
                    "each principle has one item in each part.",
                )
            else:
                pairs[part, principle] = index
            code = item.get("code") or f"{part}-{principle}"
            if isinstance(code, str):
                if code in item_codes:
                    yield (
                        ("items", index, "code"),
                        f"{where} has the same code as item {item_codes[code] + 1}. Give each item a code of its own.",
                    )
                else:
                    item_codes[code] = index
        descriptors = item.get("descriptors")
        if scores and isinstance(descriptors, dict):
            missing = [s for s in scores if s not in descriptors]
            extra = [k for k in descriptors if k not in scores]
            if missing or extra:
                detail = []
                if missing:
                    detail.append(f"it has none for {_and(missing)}")
                if extra:
                    detail.append(_not_scores(extra))
                yield (
                    ("items", index, "descriptors"),
                    f"{where} needs a descriptor for each score from {scores[0]} to {scores[-1]}, keyed by the "
                    f"score: {'; '.join(detail)}.",
                )

    for section, word in (("parts", "part"), ("principles", "principle")):
        if not _entries(data, "items"):
            break
        for index, entry in _entries(data, section):
            code = entry.get("code")
            if isinstance(code, str) and code in codes[section] and code not in used[section]:
                yield (
                    (section, index),
                    f"{_where((section, index), data)} has no items. Add an item for it, or remove the {word}.",
                )


def _scale_problems(data: Mapping[str, Any]) -> Generator[Problem, None, list[str]]:
    """Problems with the scale; returns its scores as text ("1" to "4") when it is sound."""
    scale = data.get("scale")
    if not isinstance(scale, dict):
        return []
    low, high, threshold = (_whole(scale.get(name)) for name in ("min", "max", "threshold"))
    if low is None or high is None:
        return []
    if low >= high:
        yield ("scale", "max"), f"The scale's max ({high}) must be above its min ({low})."
        return []
    if threshold is not None and not low < threshold <= high:
        yield (
            ("scale", "threshold"),
            f"The scale's threshold ({threshold}) must be above its min ({low}) and no more than its max ({high}): "
            "it is the lowest score that counts as THRIVE-like.",
        )
    scores = [str(score) for score in range(low, high + 1)]
    labels = scale.get("labels")
    if isinstance(labels, dict):
        extra = [name for name in labels if name not in scores]
        if extra:
            yield (
                ("scale", "labels"),
                f"The scale's labels must be keyed by its scores, from {low} to {high}: {_not_scores(extra)}.",
            )
    return scores


# Plain-English places and words -----------------------------------------------------

_SECTION_WORDS = {"parts": ("part", "parts"), "principles": ("principle", "principles"), "items": ("item", "items")}
_FIELD_WORDS = {
    "is_draft": "is_draft flag",
    "short_label": "short label",
    "min": "min",
    "max": "max",
    "$schema": "$schema",
}
_TYPE_WORDS = {
    "string": "text in quotes",
    "integer": "a whole number, without quotes",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object in braces, { }",
    "array": "a list in square brackets, [ ]",
    "null": "null",
}


def _where(path: Path_, data: Mapping[str, Any]) -> str:
    """'The file', 'The version', 'Item 3 (system-needs-led)', 'The evidence type of
    item 3 (system-needs-led)', 'The scale's label for score 2'."""
    if not path:
        return "The file"
    head, rest = path[0], path[1:]
    if head in _SECTION_WORDS and rest and isinstance(rest[0], int):
        thing = f"{_SECTION_WORDS[str(head)][0]} {rest[0] + 1}{_code_note(data, str(head), rest[0])}"
        fields = rest[1:]
        if not fields:
            return thing[0].upper() + thing[1:]
        return f"The {_field_words(fields)} of {thing}"
    if head == "scale":
        return f"The scale's {_field_words(rest)}" if rest else "The scale"
    return f"The {_field_words(path)}"


def _code_note(data: Mapping[str, Any], section: str, index: int) -> str:
    entries = data.get(section)
    entry = entries[index] if isinstance(entries, list) and index < len(entries) else None
    code = entry.get("code") if isinstance(entry, dict) else None
    if isinstance(code, str) and 0 < len(code) <= 90 and code.isprintable():
        return f" ({code})"
    return ""


def _field_words(fields: Path_) -> str:
    if len(fields) == 2 and fields[0] in ("descriptors", "labels"):
        return f"{'descriptor' if fields[0] == 'descriptors' else 'label'} for score {_shown(fields[1])}"
    if len(fields) == 2 and fields[0] == "evidence":
        return f"evidence {_FIELD_WORDS.get(str(fields[1]), _shown(fields[1]))}"
    return " ".join(_FIELD_WORDS.get(str(field), _shown(field)) for field in fields)


def _noun(path: Path_, count: int) -> str:
    singular, plural = _SECTION_WORDS.get(str(path[0]) if path else "", ("entry", "entries"))
    return singular if count == 1 else plural


def _type_words(value: str | list[str]) -> str:
    names = [value] if isinstance(value, str) else value
    return " or ".join(_TYPE_WORDS.get(name, name) for name in names)


def _shown(value: Any) -> str:
    """A name from the file, shortened and with control characters made visible."""
    text = str(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return text.encode("unicode_escape", errors="backslashreplace").decode("ascii") if not text.isprintable() else text


def _quoted(value: Any) -> str:
    return f"'{_shown(value)}'"


def _not_scores(names: list[str]) -> str:
    return f"{_and([_quoted(name) for name in names])} {'is not a score' if len(names) == 1 else 'are not scores'}"


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
