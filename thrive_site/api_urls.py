"""REST API routes. Site-owned resources are nested under the site's slug so the
site always comes from the URL, resolved through the access selector, never from
the request body.

DRF views step aside from LoginRequiredMiddleware and authenticate each request
themselves (session or token), answering 401/403 rather than redirecting. The docs
page is for people in a browser, so it sends anonymous visitors to sign in; the
schema it reads needs a signed-in user or a token.
"""

from django.contrib.auth.decorators import login_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated

from mapping import api as mapping_api
from sites import api as sites_api

site = "sites/<slug:site_slug>/"
service = f"{site}services/<uuid:public_id>/"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]), name="schema"),
    path("docs/", login_required(SpectacularSwaggerView.as_view(url_name="schema")), name="swagger-ui"),
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
    path(f"{service}offers/", mapping_api.OfferListApi.as_view(), name="api-offer-list"),
    path(f"{service}offers/<slug:grouping_code>/", mapping_api.OfferDetailApi.as_view(), name="api-offer-detail"),
]
