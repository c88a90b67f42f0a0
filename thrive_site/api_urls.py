"""REST API routes. Site-owned resources are nested under the site's slug so the
site always comes from the URL, resolved through the access selector, never from
the request body.

DRF views step aside from LoginRequiredMiddleware and authenticate each request
themselves (a token, or the browser session with its CSRF token), answering 401 with
`WWW-Authenticate: Token` rather than redirecting. The docs page is for people in a
browser, so it sends anonymous visitors to sign in; the schema it reads needs a
signed-in user or a token.
"""

from django.contrib.auth.decorators import login_required
from django.urls import path
from drf_spectacular.views import SpectacularSwaggerView

from activity import api as activity_api
from assessment import api as assessment_api
from gaps import api as gaps_api
from mapping import api as mapping_api
from sites import api as sites_api

from .schema import SchemaApi

site = "sites/<slug:site_slug>/"
service = f"{site}services/<uuid:public_id>/"
assessment_round = f"{site}rounds/<uuid:public_id>/"


class DocsView(SpectacularSwaggerView):
    """The docs page. OPTIONS would describe it through an HTML template it has none
    of (a 500); a page for people in a browser is only read."""

    metadata_class = None


urlpatterns = [
    path("schema/", SchemaApi.as_view(), name="schema"),
    path("docs/", login_required(DocsView.as_view(url_name="schema")), name="swagger-ui"),
    path("groupings/", mapping_api.GroupingListApi.as_view(), name="api-grouping-list"),
    path("delivery-settings/", mapping_api.DeliverySettingListApi.as_view(), name="api-delivery-setting-list"),
    path("referral-routes/", mapping_api.ReferralRouteListApi.as_view(), name="api-referral-route-list"),
    path("sites/", sites_api.SiteListApi.as_view(), name="api-site-list"),
    path(site, sites_api.SiteDetailApi.as_view(), name="api-site-detail"),
    path(f"{site}areas/", mapping_api.AreaListApi.as_view(), name="api-area-list"),
    path(f"{site}organisations/", mapping_api.OrganisationListCreateApi.as_view(), name="api-organisation-list"),
    path(
        f"{site}organisations/<uuid:public_id>/",
        mapping_api.OrganisationDetailApi.as_view(),
        name="api-organisation-detail",
    ),
    path(f"{site}services/", mapping_api.ServiceListCreateApi.as_view(), name="api-service-list"),
    path(service, mapping_api.ServiceDetailApi.as_view(), name="api-service-detail"),
    path(f"{service}restore/", mapping_api.ServiceRestoreApi.as_view(), name="api-service-restore"),
    path(f"{service}offers/", mapping_api.OfferListApi.as_view(), name="api-offer-list"),
    path(f"{service}offers/<slug:grouping_code>/", mapping_api.OfferDetailApi.as_view(), name="api-offer-detail"),
    path("prevalence/", gaps_api.PrevalenceListApi.as_view(), name="api-prevalence-list"),
    path(f"{site}gap-runs/", gaps_api.GapRunListCreateApi.as_view(), name="api-gap-run-list"),
    path(f"{site}gap-runs/<uuid:public_id>/", gaps_api.GapRunDetailApi.as_view(), name="api-gap-run-detail"),
    # Improvement keys contain ":" (grow:getting-help); str takes anything but "/".
    path(f"{site}improvements/<str:key>/", gaps_api.ImprovementDecisionApi.as_view(), name="api-improvement"),
    path(f"{site}improvements/<str:key>/pdsa/", gaps_api.ImprovementPdsaApi.as_view(), name="api-improvement-pdsa"),
    path(f"{site}gap-assumptions/", gaps_api.GapAssumptionsApi.as_view(), name="api-gap-assumptions"),
    path(f"{site}population/", gaps_api.PopulationApi.as_view(), name="api-population"),
    path("instruments/", assessment_api.InstrumentListApi.as_view(), name="api-instrument-list"),
    path("instruments/<str:version>/", assessment_api.InstrumentDetailApi.as_view(), name="api-instrument-detail"),
    path(f"{site}rounds/", assessment_api.RoundListCreateApi.as_view(), name="api-round-list"),
    path(assessment_round, assessment_api.RoundDetailApi.as_view(), name="api-round-detail"),
    path(f"{assessment_round}submit/", assessment_api.RoundSubmitApi.as_view(), name="api-round-submit"),
    path(f"{assessment_round}reopen/", assessment_api.RoundReopenApi.as_view(), name="api-round-reopen"),
    path(f"{assessment_round}lock/", assessment_api.RoundLockApi.as_view(), name="api-round-lock"),
    path(
        f"{assessment_round}agreed-scores/", assessment_api.AgreedScoreListApi.as_view(), name="api-agreed-score-list"
    ),
    path(
        f"{assessment_round}agreed-scores/<slug:item_code>/",
        assessment_api.AgreedScoreDetailApi.as_view(),
        name="api-agreed-score-detail",
    ),
    path(f"{assessment_round}ratings/", assessment_api.RatingListCreateApi.as_view(), name="api-rating-list"),
    path(
        f"{assessment_round}ratings/<uuid:rating_id>/",
        assessment_api.RatingDetailApi.as_view(),
        name="api-rating-detail",
    ),
    path(f"{assessment_round}results/", assessment_api.RoundResultsApi.as_view(), name="api-round-results"),
    path(f"{site}assessment/comparison/", assessment_api.ComparisonApi.as_view(), name="api-assessment-comparison"),
    path(f"{site}activity/", activity_api.ActivityApi.as_view(), name="api-activity"),
]
