"""Loading a new version of the assessment tool from a file, by the page and by
`manage.py load_instrument`: a malformed file is refused with a message saying what
is wrong and where, nothing is stored, and nothing answers 500; the project's draft
still loads; and the instrument pages cope with any version already stored."""

import copy
import datetime
import html as html_lib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.urls import reverse
from jsonschema import Draft202012Validator

from accounts.models import User
from assessment.instrument_file import MAX_FILE_BYTES, MAX_PROBLEMS_SHOWN, instrument_schema
from assessment.management.commands.load_instrument import (
    DEFAULT_INSTRUMENT,
    load_default_instrument,
    read_instrument_file,
)
from assessment.models import Instrument, Item, Part, Principle, Round
from assessment.services import instrument_load
from sites.models import Site
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOAD_URL = "/assessment/instruments/load/"
Change = Callable[[dict[str, Any]], Any]


def draft() -> dict[str, Any]:
    data = copy.deepcopy(read_instrument_file(DEFAULT_INSTRUMENT))
    data["version"] = "official-2027"
    return data


def mutated(change: Change) -> bytes:
    data = draft()
    change(data)
    return json.dumps(data).encode()


def text_of(response: Any) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def error_summary(response: Any) -> str:
    html = response.content.decode()
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', html, flags=re.S)
    assert summary is not None, "no error summary on the page"
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", summary.group(0))).split())


def stored() -> tuple[int, int, int, int]:
    return (Instrument.objects.count(), Part.objects.count(), Principle.objects.count(), Item.objects.count())


def setitem(path: tuple[Any, ...], value: Any) -> Change:
    def change(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def delitem(path: tuple[Any, ...]) -> Change:
    def change(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


def both(*changes: Change) -> Change:
    def change(data: dict[str, Any]) -> None:
        for one in changes:
            one(data)

    return change


def _copy_part_code(data: dict[str, Any]) -> None:
    data["parts"][1]["code"] = data["parts"][0]["code"]


def _copy_item_code(data: dict[str, Any]) -> None:
    data["items"][1]["code"] = data["items"][0]["code"]


def _repeat_pair(data: dict[str, Any]) -> None:
    data["items"][1]["principle"] = data["items"][0]["principle"]


def _many_items(data: dict[str, Any]) -> None:
    data["items"] = data["items"] * 9


def _too_deep(data: dict[str, Any]) -> None:
    data["note"] = json.loads("[" * 20 + "]" * 20)


# (what is wrong, the file's bytes, words the message must hold)
MALFORMED: list[tuple[str, bytes, str]] = [
    (
        "not JSON",
        b"{not json",
        "The file is not valid JSON: Expecting property name enclosed in double quotes at line 1",
    ),
    ("an empty file of spaces", b"   ", "The file is not valid JSON"),
    ("a list, not an object", b"[]", "The file must hold one instrument: a JSON object"),
    ("a bare string", b'"THRIVE"', "The file must hold one instrument"),
    ("Latin-1, not UTF-8", '{"name": "Évaluation"}'.encode("latin-1"), "The file is not UTF-8 text"),
    ("UTF-16", json.dumps(draft()).encode("utf-16"), "The file is not UTF-8 text"),
    ("a name given twice", b'{"version": "a", "version": "b"}', "one object gives 'version' twice"),
    ("NaN for a number", mutated(setitem(("scale", "min"), float("nan"))), "NaN is not a number JSON allows"),
    ("nested past the decoder's limit", b"[" * 100_000 + b"]" * 100_000, "nests lists or objects more than 8"),
    ("nested deeper than the format", mutated(_too_deep), "nests lists or objects more than 8 levels deep"),
    ("a 5,000-digit number", b'{"version": 1' + b"0" * 5000 + b"}", "The file holds a number too long to read"),
    ("an empty object", b"{}", "The file has no version."),
    ("a version with a line break", mutated(setitem(("version",), "2027\n")), "The version must be on one line"),
    (
        "a version with a slash",
        mutated(setitem(("version",), "2027/1")),
        "The version must start with a letter or digit",
    ),
    ("a version with a NUL", mutated(setitem(("version",), "20\x0027")), "The version must be on one line"),
    (
        "a version of 41 characters",
        mutated(setitem(("version",), "v" * 41)),
        "The version must be 40 characters or fewer",
    ),
    ("the version 'load'", mutated(setitem(("version",), "load")), "The version cannot be 'load'"),
    ("an empty version", mutated(setitem(("version",), "")), "The version must start with a letter or digit"),
    ("a version that is a number", mutated(setitem(("version",), 2027)), "The version must be text in quotes"),
    (
        "a version already loaded",
        mutated(setitem(("version",), "draft-2026.1")),
        "Version draft-2026.1 is already loaded",
    ),
    ("no name", mutated(delitem(("name",))), "The file has no name."),
    ("a name of 161 characters", mutated(setitem(("name",), "n" * 161)), "The name must be 160 characters or fewer"),
    ("a blank name", mutated(setitem(("name",), "   ")), "The name must not be blank"),
    (
        "a note with a bell character",
        mutated(setitem(("note",), "Ding\x07")),
        "The note must not hold control characters",
    ),
    ("a field the format does not have", mutated(setitem(("parst",), [])), "The file has 'parst', which the format"),
    ("a misspelt item field", mutated(setitem(("items", 0, "descripton"), "x")), "has 'descripton', which the format"),
    ("no parts", mutated(setitem(("parts",), [])), "The file needs at least 1 part."),
    ("items as an object", mutated(setitem(("items",), {"a": 1})), "The items must be a list in square brackets"),
    ("an item that is text", mutated(setitem(("items", 3), "item")), "Item 4 must be an object in braces"),
    ("201 items", mutated(_many_items), "The file can have at most 200 items (it has 216)."),
    (
        "a part code with a space",
        mutated(setitem(("parts", 0, "code"), "sys tem")),
        "The code of part 1 (sys tem) must use only lowercase",
    ),
    (
        "a capitalised principle code",
        mutated(setitem(("principles", 1, "code"), "Needs-Led")),
        "The code of principle 2 (Needs-Led) must use only lowercase",
    ),
    (
        "an item code with a slash",
        mutated(setitem(("items", 0, "code"), "a/b")),
        "The code of item 1 (a/b) must use only lowercase",
    ),
    ("a part code used twice", mutated(_copy_part_code), "Part 2 (system) has the same code as part 1"),
    (
        "an item code used twice",
        mutated(_copy_item_code),
        "Item 2 (system-common-language) has the same code as item 1",
    ),
    (
        "an item naming an unknown part",
        mutated(setitem(("items", 2, "part"), "nowhere")),
        "names a part that is not in the file: 'nowhere'",
    ),
    (
        "an item naming an unknown principle",
        mutated(setitem(("items", 2, "principle"), "kindness")),
        "names a principle that is not in the file: 'kindness'",
    ),
    ("a part and principle given twice", mutated(_repeat_pair), "repeats the part and principle of item 1"),
    (
        "a scale whose min is its max",
        mutated(setitem(("scale", "max"), 1)),
        "The scale's max (1) must be above its min (1).",
    ),
    (
        "a threshold above the scale",
        mutated(setitem(("scale", "threshold"), 5)),
        "The scale's threshold (5) must be above its min (1) and no more than its max (4)",
    ),
    ("a scale of 1.5", mutated(setitem(("scale", "min"), 1.5)), "The scale's min must be a whole number"),
    ("a scale of 1.0", mutated(setitem(("scale", "min"), 1.0)), "The scale's min must be a whole number"),
    (
        "a scale in quotes",
        mutated(setitem(("scale", "max"), "4")),
        "The scale's max must be a whole number, without quotes",
    ),
    ("a scale up to 1000", mutated(setitem(("scale", "max"), 1000)), "The scale's max must be 10 or less."),
    ("a scale from true", mutated(setitem(("scale", "min"), True)), "The scale's min must be a whole number"),
    (
        "a scale label for no score",
        mutated(setitem(("scale", "labels", "five"), "x")),
        "The scale's labels must be keyed by its scores, from 1 to 4: 'five' is not a score",
    ),
    (
        "a descriptor missing",
        mutated(delitem(("items", 4, "descriptors", "2"))),
        "Item 5 (system-partnership-working) needs a descriptor for each score from 1 to 4, keyed by the score: "
        "it has none for 2",
    ),
    ("a descriptor for no score", mutated(setitem(("items", 4, "descriptors", "5"), "Beyond")), "'5' is not a score"),
    (
        "an empty descriptor",
        mutated(setitem(("items", 4, "descriptors", "3"), "")),
        "The descriptor for score 3 of item 5 (system-partnership-working) must not be empty",
    ),
    (
        "an unknown evidence type",
        mutated(setitem(("items", 2, "evidence", "type"), "anecdote")),
        "The evidence type of item 3 (system-shared-decision-making) must be 'quantitative' (a measure) or "
        "'description'",
    ),
    (
        "no evidence type",
        mutated(delitem(("items", 2, "evidence", "type"))),
        "The evidence of item 3 (system-shared-decision-making) has no type.",
    ),
    (
        "an evidence unit of 61 characters",
        mutated(setitem(("items", 0, "evidence", "unit"), "%" * 61)),
        "The evidence unit of item 1 (system-common-language) must be 60 characters or fewer (it has 61)",
    ),
    (
        "a description of 4,001 characters",
        mutated(setitem(("items", 0, "description"), "d" * 4001)),
        "The description of item 1 (system-common-language) must be 4,000 characters or fewer (it has 4,001)",
    ),
    (
        "a label holding a NUL",
        mutated(setitem(("principles", 0, "label"), "Common\x00Language")),
        "The label of principle 1 (common-language) must be on one line",
    ),
    (
        "a broken character",
        mutated(setitem(("items", 1, "description"), "Needs\ud800led")),
        "The description of item 2 (system-needs-led) holds a character that is not text",
    ),
    (
        "a NUL in a descriptor's key",
        mutated(setitem(("items", 1, "descriptors", "2\x00"), "x")),
        "has a name holding a character that is not text",
    ),
    (
        "a long label with no short label",
        mutated(both(delitem(("parts", 0, "short_label")), setitem(("parts", 0, "label"), "L" * 50))),
        "Part 1 (system) needs a short_label of 40 characters or fewer",
    ),
    (
        "a part no item uses",
        mutated(lambda d: d["parts"].append({"code": "extra", "label": "Extra"})),
        "Part 4 (extra) has no items. Add an item for it, or remove the part.",
    ),
]


@pytest.fixture
def staff(db: Any) -> User:
    return UserFactory(username="staff", is_staff=True)


@pytest.fixture
def loaded(db: Any) -> Instrument:
    return load_default_instrument()


def test_at_least_forty_malformed_files_are_tried() -> None:
    assert len(MALFORMED) >= 40
    assert len({name for name, _, _ in MALFORMED}) == len(MALFORMED)


@pytest.mark.parametrize(("problem", "content", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_file_uploaded_on_the_page_is_refused_with_a_clear_message_and_nothing_is_stored(
    client_for: Any, staff: User, loaded: Instrument, problem: str, content: bytes, message: str
) -> None:
    before = stored()
    client = client_for(staff)
    client.raise_request_exception = False
    upload = SimpleUploadedFile("tool.json", content, content_type="application/json")
    response = client.post(LOAD_URL, {"file": upload})
    assert response.status_code == 200
    assert text_of(response).startswith("Error:")
    assert message in error_summary(response)
    assert stored() == before


@pytest.mark.parametrize(("problem", "content", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_file_given_to_the_command_is_refused_with_the_same_message_and_nothing_is_stored(
    tmp_path: Path, loaded: Instrument, problem: str, content: bytes, message: str
) -> None:
    before = stored()
    path = tmp_path / "tool.json"
    path.write_bytes(content)
    with pytest.raises(CommandError) as raised:
        call_command("load_instrument", str(path))
    assert f"{path} was not loaded; nothing changed:" in str(raised.value)
    assert message in " ".join(str(raised.value).split())
    assert stored() == before


def test_a_file_over_two_megabytes_is_refused_before_it_is_read(
    client_for: Any, staff: User, tmp_path: Path, loaded: Instrument
) -> None:
    before = stored()
    content = b" " * (MAX_FILE_BYTES + 1)
    response = client_for(staff).post(LOAD_URL, {"file": SimpleUploadedFile("tool.json", content)})
    assert "The file must be smaller than 2 MB" in error_summary(response)
    path = tmp_path / "big.json"
    path.write_bytes(content)
    with pytest.raises(CommandError, match="The file must be smaller than 2 MB"):
        call_command("load_instrument", str(path))
    assert stored() == before


def test_a_file_with_many_problems_lists_the_first_twenty_and_counts_the_rest(
    client_for: Any, staff: User, loaded: Instrument
) -> None:
    def break_every_item(data: dict[str, Any]) -> None:
        for item in data["items"]:
            item["evidence"]["type"] = "anecdote"

    response = client_for(staff).post(LOAD_URL, {"file": SimpleUploadedFile("tool.json", mutated(break_every_item))})
    summary = error_summary(response)
    assert summary.count("must be 'quantitative' (a measure) or 'description'") == MAX_PROBLEMS_SHOWN
    assert f"And {24 - MAX_PROBLEMS_SHOWN} more problems. Fix these and load the file again to see the rest." in summary


def test_every_problem_of_a_file_is_listed_at_once_in_file_order(
    client_for: Any, staff: User, loaded: Instrument
) -> None:
    content = mutated(
        both(
            setitem(("items", 0, "part"), "nowhere"),
            setitem(("version",), "draft-2026.1"),
            setitem(("scale", "threshold"), 9),
        )
    )
    summary = error_summary(client_for(staff).post(LOAD_URL, {"file": SimpleUploadedFile("tool.json", content)}))
    version = summary.index("Version draft-2026.1 is already loaded")
    scale = summary.index("The scale's threshold (9) must be above its min (1) and no more than its max (4)")
    item = summary.index("Item 1 (system-common-language) names a part that is not in the file")
    assert version < scale < item


def test_the_project_draft_loads_as_a_new_version_by_the_page_and_by_the_command(
    client_for: Any, staff: User, tmp_path: Path, loaded: Instrument
) -> None:
    response = client_for(staff).post(LOAD_URL, {"file": SimpleUploadedFile("tool.json", mutated(lambda d: None))})
    assert response.status_code == 302
    assert Instrument.objects.get(version="official-2027").items.count() == 24

    path = tmp_path / "tool.json"
    path.write_bytes(mutated(setitem(("version",), "official 2028 v2.1")))
    call_command("load_instrument", str(path))
    second = Instrument.objects.get(version="official 2028 v2.1")
    assert second.items.count() == 24
    assert second.parts.count() == 3
    assert second.principles.count() == 8


def test_the_bundled_draft_satisfies_the_published_schema() -> None:
    Draft202012Validator.check_schema(instrument_schema())
    assert list(Draft202012Validator(instrument_schema()).iter_errors(draft())) == []


def test_a_failure_while_writing_leaves_nothing_half_stored(
    monkeypatch: pytest.MonkeyPatch, loaded: Instrument
) -> None:
    """All or nothing: here the last write fails as it would if someone else loaded
    the same version at the same moment."""
    before = stored()

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(Item.objects, "bulk_create", fail)
    with pytest.raises(ValidationError, match="Version official-2027 is already loaded"):
        instrument_load(data=draft())
    assert stored() == before


# Versions stored before they were checked ------------------------------------------------


def _stored_as_is(version: str) -> Instrument:
    """A version written straight to the database, as the old upload allowed."""
    source = load_default_instrument()
    instrument = Instrument.objects.create(version=version, name=f"Stored as {version!r}", scale_labels={})
    for part in source.parts.all():
        Part.objects.create(
            instrument=instrument, code=part.code, label=part.label, short_label=part.short_label, order=part.order
        )
    return instrument


ODD_VERSIONS = ["line\nbreak", "tab\there", "a/b", "..", ".", "load", "50%", "<b>bold</b>", "with space ", "?x=1#y"]


def test_the_instrument_list_shows_every_version_ever_stored(client_for: Any, viewer_a: User) -> None:
    for version in ODD_VERSIONS:
        _stored_as_is(version)
    response = client_for(viewer_a).get(reverse("instruments:instrument-list"))
    assert response.status_code == 200
    page = text_of(response)
    for version in ODD_VERSIONS:
        assert f"Stored as {version!r}" in page


@pytest.mark.parametrize("version", ["a/b", "50%", "<b>bold</b>", "with space ", "?x=1#y", ".."])
def test_an_oddly_named_stored_version_still_has_a_working_page(client_for: Any, viewer_a: User, version: str) -> None:
    instrument = _stored_as_is(version)
    client = client_for(viewer_a)
    listing = client.get(reverse("instruments:instrument-list")).content.decode()
    link = re.search(r'<a class="govuk-link" href="([^"]+)">' + re.escape(html_lib.escape(version)) + "</a>", listing)
    assert link is not None, version
    response = client.get(html_lib.unescape(link.group(1)))
    assert response.status_code == 200
    assert instrument.name in text_of(response)


def test_a_round_on_a_version_no_address_can_hold_still_shows(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    instrument = _stored_as_is("line\nbreak")
    round_ = Round.objects.create(site=site_a, instrument=instrument, sequence=0, held_on=datetime.date(2026, 3, 1))
    response = client_for(commissioner_a).get(
        reverse("assessment:round-detail", kwargs={"site_slug": site_a.slug, "public_id": round_.public_id})
    )
    assert response.status_code == 200
    assert "line break" in text_of(response)
