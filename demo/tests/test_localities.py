"""A wrong locality file is refused with the file and the place in it, and nothing
is written, whether the problem is found on reading or by a service's rules."""

import json
import shutil
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.authtoken.models import Token

from accounts.models import User
from assessment.models import Round
from demo.localities import LOCALITIES_DIR, DemoDataError
from demo.services import demo_load
from gaps.models import AnalysisRun
from mapping.models import Area, Organisation, Service
from sites.models import Membership, Site, SitePopulation

pytestmark = pytest.mark.django_db

Change = Callable[[dict[str, Any]], None]


def _locality() -> dict[str, Any]:
    return json.loads((LOCALITIES_DIR / "02-eastmere.json").read_text(encoding="utf-8"))


def _write(directory: Path, name: str, data: dict[str, Any] | str) -> None:
    text = data if isinstance(data, str) else json.dumps(data)
    (directory / name).write_text(text, encoding="utf-8")


@pytest.fixture
def localities(tmp_path: Path) -> Path:
    """The real localities, with room for one more."""
    for path in LOCALITIES_DIR.glob("*.json"):
        shutil.copy(path, tmp_path)
    return tmp_path


def _broken(change: Change) -> dict[str, Any]:
    data = _locality()
    data.update(
        slug="broken",
        name="Broken",
        accounts=[{"username": "broken-viewer", "first_name": "Bea", "last_name": "Roke", "role": "viewer"}],
        recorded_by="broken-viewer",
    )
    change(data)
    return data


def _counts() -> dict[str, int]:
    models = (User, Membership, Token, Site, SitePopulation, Area, Organisation, Service, Round, AnalysisRun)
    return {model.__name__: model.objects.count() for model in models}


def _set(path: str, value: Any) -> Change:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value

    return change


@pytest.mark.parametrize(
    ("change", "place", "message"),
    [
        # Found on reading, against the schema.
        (_set("services.3.min_age", "five"), "services[3].min_age", "'five' is not of type 'integer'"),
        (
            _set("services.0.offers.0.capacity_share", 120),
            "services[0].offers[0].capacity_share",
            "120 is greater than the maximum of 100",
        ),
        (
            _set("areas.0.postcode", "EM1"),
            "areas[0]",
            "Additional properties are not allowed ('postcode' was unexpected)",
        ),
        (
            _set("assessment_rounds", [{"held_on": "2026-13-01", "status": "draft", "scores": {}}]),
            "assessment_rounds[0].held_on",
            "'2026-13-01' is not a 'date'",
        ),
        # Found on reading, a name that does not match.
        (
            _set("services.2.organisation", "Nobody"),
            "services[2].organisation",
            "'Nobody' is not one of the organisations listed.",
        ),
        (_set("services.3.areas", ["Atlantis"]), "services[3].areas", "'Atlantis' is not one of the areas listed."),
        # Found by the services' rules while writing.
        (
            _set("services.0.max_age", 40),
            "services[0].max_age (Eastmere CAMHS)",
            "Maximum age must be from 0 to 25",
        ),
        (
            _set("services.0.sector", "nhs-trust"),
            "services[0].sector (Eastmere CAMHS)",
            "Value 'nhs-trust' is not a valid choice.",
        ),
        (
            _set("services.1.offers.0.grouping", "getting-lost"),
            "services[1].offers.grouping (Eastmere Crisis and Home Treatment)",
            "'getting-lost': not known here. Use one of: thriving, getting-advice,",
        ),
        (_set("population", {"0-4": 10}), "population.5-10", "Enter the number of people aged 5 to 10"),
    ],
)
def test_a_wrong_locality_file_is_refused_at_its_place_and_nothing_is_written(
    localities: Path, change: Change, place: str, message: str
) -> None:
    # Loaded first, so the services' rules are reached quickly.
    _write(localities, "00-broken.json", _broken(change))
    before = _counts()
    with pytest.raises(DemoDataError) as refused:
        demo_load(localities_dir=localities)
    assert f"00-broken.json, at {place}: {message}" in str(refused.value)
    assert _counts() == before


def test_a_wrong_locality_loaded_after_others_leaves_them_unwritten_too(localities: Path) -> None:
    _write(localities, "99-broken.json", _broken(_set("services.0.max_age", 40)))
    with pytest.raises(DemoDataError, match=r"99-broken\.json, at services\[0\]\.max_age"):
        demo_load(localities_dir=localities)
    assert _counts() == dict.fromkeys(_counts(), 0)


def test_a_file_that_is_not_json_is_refused_with_its_line(localities: Path) -> None:
    _write(localities, "99-broken.json", '{"name": "Broken",\n "slug": }')
    with pytest.raises(DemoDataError, match=r"99-broken\.json, at line 2, column 10: Not valid JSON"):
        demo_load(localities_dir=localities)
    assert _counts()["Site"] == 0


def test_every_problem_on_reading_is_listed_at_once(localities: Path) -> None:
    data = _broken(_set("services.0.organisation", "Nobody"))
    data["recorded_by"] = "someone-else"
    _write(localities, "99-broken.json", data)
    with pytest.raises(DemoDataError) as refused:
        demo_load(localities_dir=localities)
    assert [problem.place for problem in refused.value.problems] == ["recorded_by", "services[0].organisation"]


def test_two_localities_may_not_share_a_slug_or_a_username(localities: Path) -> None:
    _write(localities, "99-again.json", _locality())
    with pytest.raises(DemoDataError) as refused:
        demo_load(localities_dir=localities)
    text = str(refused.value)
    assert "99-again.json, at slug: Another locality file has the slug 'eastmere'." in text
    assert "99-again.json, at accounts: The username 'eastmere-commissioner' is used more than once." in text


def test_load_demo_refuses_a_wrong_locality_file_with_a_clear_message(
    localities: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(localities, "99-broken.json", _broken(_set("services.3.min_age", -1)))
    monkeypatch.setattr("demo.localities.LOCALITIES_DIR", localities)
    with pytest.raises(CommandError) as refused:
        call_command("load_demo", "--force", stdout=StringIO())
    assert str(refused.value) == (
        "The demo data was not loaded; nothing changed:\n"
        f"- {localities / '99-broken.json'}, at services[3].min_age: -1 is less than the minimum of 0"
    )
    assert _counts()["User"] == 0
