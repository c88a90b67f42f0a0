"""Text from instrument files and from people is shown as text, never run as markup.

An instrument whose every text field is a script payload is loaded, scored and
analysed; a site whose name, services, organisation, area, offers and notes are
payloads is mapped and analysed. Every page (and htmx fragment) that shows that text
must show it escaped: the payload appears as text, and the page holds no element or
attribute it did not put there itself.
"""

import copy
import datetime
from html.parser import HTMLParser
from typing import Any

import pytest
from django.urls import reverse

from accounts.models import User
from assessment.management.commands.load_instrument import DEFAULT_INSTRUMENT, read_instrument_file
from assessment.models import Instrument, Item, Round
from assessment.services import (
    AgreedScoreInput,
    agreed_score_save,
    instrument_load,
    rating_save,
    round_create,
    round_submit,
)
from gaps import services as gap_services
from gaps.models import AnalysisRun, RunStatus, RunTrigger
from gaps.results import run_results
from mapping.models import Area, Grouping, Service
from sites.models import AgeBand, Site, SitePopulation
from tests.factories import AreaFactory, OfferFactory, OrganisationFactory, ServiceFactory

pytestmark = pytest.mark.django_db

PAYLOAD = '<script>alert("xss")</script><img src=x onerror=alert(1)>'
# For fields of 40 characters or fewer.
SHORT_PAYLOAD = "<img src=x onerror=alert(2)>"
ESCAPED = ("&lt;script&gt;", "&lt;img src=x onerror=")
HTMX = {"HTTP_HX_REQUEST": "true"}


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts = 0
        self.handlers: list[str] = []
        self.injected_images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.inline_scripts += 1
        if tag == "img" and names.get("src") == "x":
            self.injected_images.append(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]


def assert_shown_as_text(response: Any, url: str) -> None:
    assert response.status_code == 200, url
    html = response.content.decode()
    assert "<script>alert" not in html, url
    assert "<img src=x" not in html, url
    markup = _Markup()
    markup.feed(html)
    assert markup.inline_scripts == 0, url
    assert markup.handlers == [], url
    assert markup.injected_images == [], url
    # The payload is on the page, as text: the test would notice if it were not shown.
    assert any(escaped in html for escaped in ESCAPED), url


# An instrument of payloads -----------------------------------------------------------------


def hostile_instrument_data() -> dict[str, Any]:
    data = copy.deepcopy(read_instrument_file(DEFAULT_INSTRUMENT))
    data.update(version="hostile-1", name=PAYLOAD, note=PAYLOAD, is_draft=True)
    data["scale"]["labels"] = {score: PAYLOAD for score in data["scale"]["labels"]}
    for part in data["parts"]:
        part.update(label=PAYLOAD, short_label=SHORT_PAYLOAD, description=PAYLOAD)
    for principle in data["principles"]:
        principle.update(label=PAYLOAD, description=PAYLOAD)
    for item in data["items"]:
        item["description"] = PAYLOAD
        item["descriptors"] = {score: PAYLOAD for score in item["descriptors"]}
        item["evidence"] = {**item["evidence"], "prompt": PAYLOAD}
        if item["evidence"]["type"] == "quantitative":
            item["evidence"]["unit"] = PAYLOAD
    return data


def _score_every_item(round_: Round, user: User, score: int) -> None:
    for item in Item.objects.filter(instrument=round_.instrument):
        agreed_score_save(
            round_=round_,
            item=item,
            user=user,
            data=AgreedScoreInput(score=score, evidence_text=PAYLOAD, notes=PAYLOAD),
            expected_version=None,
            source="page",
        )


def _rate_every_item(round_: Round, user: User) -> None:
    for item in Item.objects.filter(instrument=round_.instrument):
        rating_save(round_=round_, item=item, user=user, participant=SHORT_PAYLOAD, score=2, source="page", seen=None)


def _analysed(site: Site, user: User, groupings: dict[str, Grouping]) -> AnalysisRun:
    for band, people in zip(AgeBand, (1000, 2000, 2000, 900, 1500), strict=True):
        SitePopulation.objects.create(site=site, age_band=band.value, people=people)
    run = AnalysisRun.objects.create(site=site, trigger=RunTrigger.PAGE, requested_by=user)
    gap_services.run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


@pytest.fixture
def hostile_instrument(db: Any) -> Instrument:
    return instrument_load(data=hostile_instrument_data())


@pytest.fixture
def scored_site_a(
    hostile_instrument: Instrument, site_a: Site, commissioner_a: User, groupings: dict[str, Grouping]
) -> dict[str, Any]:
    """Site A with a submitted baseline and follow-up on the hostile instrument, a draft
    third round, and a gap analysis that read the follow-up."""
    rounds = []
    for sequence, score in enumerate((2, 3)):
        round_ = round_create(
            site=site_a,
            user=commissioner_a,
            held_on=datetime.date(2026, 3 + sequence, 1),
            instrument=hostile_instrument,
            notes=PAYLOAD,
            source="page",
        )
        _score_every_item(round_, commissioner_a, score)
        _rate_every_item(round_, commissioner_a)
        round_submit(round_=round_, user=commissioner_a, source="page", expected_version=None)
        rounds.append(round_)
    draft = round_create(
        site=site_a,
        user=commissioner_a,
        held_on=datetime.date(2026, 9, 1),
        instrument=hostile_instrument,
        source="page",
    )
    for _ in range(3):
        OfferFactory(service=ServiceFactory(site=site_a), grouping=groupings["getting-help"], capacity_share=100)
    run = _analysed(site_a, commissioner_a, groupings)
    return {"baseline": rounds[0], "follow_up": rounds[1], "draft": draft, "run": run}


def _round_urls(round_: Round) -> list[str]:
    kwargs = {"site_slug": round_.site.slug, "public_id": round_.public_id}
    return [
        reverse("assessment:round-detail", kwargs=kwargs),
        reverse("assessment:round-results", kwargs=kwargs),
        *(
            reverse("assessment:round-score", kwargs={**kwargs, "part_code": code})
            for code in round_.instrument.parts.values_list("code", flat=True)
        ),
    ]


def test_an_instrument_file_of_script_payloads_is_shown_as_text_on_every_page(
    client_for: Any, commissioner_a: User, site_a: Site, hostile_instrument: Instrument, scored_site_a: dict[str, Any]
) -> None:
    client = client_for(commissioner_a)
    run: AnalysisRun = scored_site_a["run"]
    improvement_keys = [row.key for row in run_results(run=run).improvements]
    assert any(key.startswith("principle") or ":" in key for key in improvement_keys)
    gaps = {"site_slug": site_a.slug}
    urls = [
        reverse("instruments:instrument-list"),
        reverse("instruments:instrument-detail", kwargs={"version": hostile_instrument.version}),
        reverse("assessment:round-compare", kwargs={"site_slug": site_a.slug}),
        *_round_urls(scored_site_a["baseline"]),
        *_round_urls(scored_site_a["follow_up"]),
        *_round_urls(scored_site_a["draft"]),
        reverse("gaps:gaps-home", kwargs=gaps),
        reverse("gaps:assumptions", kwargs=gaps),
        reverse("gaps:run-detail", kwargs={**gaps, "public_id": run.public_id}),
        *(reverse("gaps:improvement", kwargs={**gaps, "key": key}) for key in improvement_keys),
    ]
    for url in urls:
        assert_shown_as_text(client.get(url), url)


def test_the_scoring_fragments_htmx_swaps_in_show_instrument_text_as_text(
    client_for: Any, commissioner_a: User, scored_site_a: dict[str, Any]
) -> None:
    draft: Round = scored_site_a["draft"]
    item = Item.objects.filter(instrument=draft.instrument).select_related("part").first()
    assert item is not None
    kwargs = {"site_slug": draft.site.slug, "public_id": draft.public_id, "part_code": item.part.code}
    url = reverse("assessment:round-score-item", kwargs={**kwargs, "item_code": item.code})
    client = client_for(commissioner_a)

    saved = client.post(url, {f"{item.code}-score": "9", f"{item.code}-version": "0"}, **HTMX)
    assert_shown_as_text(saved, url)
    assert "Choose a score from 1 to 4" in saved.content.decode()

    rating_url = reverse("assessment:round-rating-save", kwargs={**kwargs, "item_code": item.code})
    rated = client.post(
        rating_url, {f"{item.code}-rating-participant": PAYLOAD[:80], f"{item.code}-rating-score": "2"}, **HTMX
    )
    assert_shown_as_text(rated, rating_url)


def test_the_assumption_weights_are_labelled_with_the_instrument_principles_as_text(
    client_for: Any, commissioner_a: User, site_a: Site, hostile_instrument: Instrument
) -> None:
    """The page the issue was found on: crispy-forms-gds printed field labels unescaped."""
    response = client_for(commissioner_a).get(reverse("gaps:assumptions", kwargs={"site_slug": site_a.slug}))
    html = response.content.decode()
    assert_shown_as_text(response, "assumptions")
    assert html.count('<label for="id_weight_') == 8
    assert html.count("&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;") >= 8


# A site of payloads ------------------------------------------------------------------------


@pytest.fixture
def hostile_site_a(site_a: Site, commissioner_a: User, groupings: dict[str, Grouping]) -> dict[str, Any]:
    """Site A named with a payload, with an organisation, area, service, offers and an
    improvement decision and PDSA note all holding payloads, and a gap analysis."""
    Site.objects.filter(pk=site_a.pk).update(name=PAYLOAD, region=PAYLOAD[:80])
    site_a.refresh_from_db()
    organisation = OrganisationFactory(site=site_a, name=PAYLOAD)
    area: Area = AreaFactory(site=site_a, name=PAYLOAD)
    service: Service = ServiceFactory(
        site=site_a,
        organisation=organisation,
        name=PAYLOAD,
        description=PAYLOAD,
        contact_phone=SHORT_PAYLOAD,
        # Never checked: the gap analysis lists it as a data-quality issue, by name.
        last_checked_on=None,
    )
    service.areas.add(area)
    OfferFactory(service=service, grouping=groupings["getting-help"], capacity_share=60, description=PAYLOAD)
    OfferFactory(service=service, grouping=groupings["getting-risk-support"], capacity_share=40, description=PAYLOAD)
    run = _analysed(site_a, commissioner_a, groupings)
    key = run_results(run=run).improvements[0].key
    gap_services.decision_update(
        site=site_a,
        key=key,
        user=commissioner_a,
        source="page",
        changes={"status": "dismissed", "dismiss_reason": PAYLOAD, "owner": PAYLOAD[:120]},
        expected_version=None,
    )
    gap_services.pdsa_record(
        site=site_a,
        key=key,
        user=commissioner_a,
        source="page",
        stage="plan",
        note=PAYLOAD,
        recorded_on=datetime.date(2026, 3, 1),
    )
    return {"service": service, "organisation": organisation, "run": run, "key": key}


def test_a_site_whose_names_and_notes_are_script_payloads_shows_them_as_text_on_every_page(
    client_for: Any, commissioner_a: User, site_a: Site, hostile_site_a: dict[str, Any]
) -> None:
    client = client_for(commissioner_a)
    service: Service = hostile_site_a["service"]
    site = {"site_slug": site_a.slug}
    in_service = {**site, "public_id": service.public_id}
    urls = [
        reverse("home"),
        reverse("sites:overview", kwargs=site),
        reverse("mapping:service-list", kwargs=site),
        reverse("mapping:service-detail", kwargs=in_service),
        reverse("mapping:service-edit", kwargs=in_service),
        reverse("mapping:service-offers", kwargs=in_service),
        reverse("mapping:service-archive", kwargs=in_service),
        reverse("mapping:matrix", kwargs=site),
        reverse("mapping:organisation-list", kwargs=site),
        reverse("mapping:organisation-edit", kwargs={**site, "public_id": hostile_site_a["organisation"].public_id}),
        reverse("mapping:service-create", kwargs=site),
        reverse("gaps:gaps-home", kwargs=site),
        reverse("gaps:run-list", kwargs=site),
        reverse("gaps:run-detail", kwargs={**site, "public_id": hostile_site_a["run"].public_id}),
        reverse("gaps:improvement", kwargs={**site, "key": hostile_site_a["key"]}),
        reverse("gaps:assumptions", kwargs=site),
    ]
    for url in urls:
        assert_shown_as_text(client.get(url), url)


def test_the_matrix_cell_fragments_show_a_service_named_with_a_payload_as_text(
    client_for: Any, commissioner_a: User, site_a: Site, hostile_site_a: dict[str, Any]
) -> None:
    client = client_for(commissioner_a)
    service: Service = hostile_site_a["service"]
    url = reverse(
        "mapping:matrix-cell",
        kwargs={"site_slug": site_a.slug, "public_id": service.public_id, "grouping_code": "getting-help"},
    )
    assert_shown_as_text(client.get(url, **HTMX), url)
    saved = client.post(url, {"capacity_share": "50", "description": PAYLOAD}, **HTMX)
    assert_shown_as_text(saved, url)


def test_the_overview_chart_labels_and_describes_bars_with_text_not_markup(
    client_for: Any, commissioner_a: User, site_a: Site, hostile_site_a: dict[str, Any]
) -> None:
    html = client_for(commissioner_a).get(reverse("sites:overview", kwargs={"site_slug": site_a.slug})).content
    svg = html.decode().split('<svg class="app-overview-chart"', 1)[1].split("</svg>", 1)[0]
    assert "&lt;script&gt;" in svg  # the site's name, in the chart's title
    assert "<script" not in svg and "<img" not in svg


def test_the_run_progress_fragment_shows_its_requester_as_text(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    User.objects.filter(pk=commissioner_a.pk).update(first_name=SHORT_PAYLOAD, last_name=SHORT_PAYLOAD)
    commissioner_a.refresh_from_db()
    run = AnalysisRun.objects.create(site=site_a, trigger=RunTrigger.PAGE, requested_by=commissioner_a)
    url = reverse("gaps:run-progress", kwargs={"site_slug": site_a.slug, "public_id": run.public_id})
    assert_shown_as_text(client_for(commissioner_a).get(url, **HTMX), url)
