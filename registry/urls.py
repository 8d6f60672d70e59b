from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.cache import never_cache
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from api.errors import throttled_response
from api.throttling import admin_login_throttled
from api.views.ckan import ckan_action
from api.views.metrics import metrics_view
from api.views.schema import SchemaView


@never_cache
def admin_login(request, extra_context=None):
    """The admin's login form, with the participant login's limits (`api.throttling`): a POST over them is
    refused with 429 before any password is checked."""
    if request.method == "POST" and (throttled := admin_login_throttled(request)) is not None:
        return throttled_response(throttled.wait)
    return admin.site.login(request, extra_context)


def dcat_catalog(request, *args, **kwargs):
    from api.views.dcat import dcat_catalog as view  # lazy: rdflib (13 MB) only where DCAT is served

    return view(request, *args, **kwargs)


def dcat_product(request, *args, **kwargs):
    from api.views.dcat import dcat_product as view  # lazy: rdflib (13 MB) only where DCAT is served

    return view(request, *args, **kwargs)


urlpatterns = [
    path("api/v1/", include("api.urls")),
    path("federation/v1/", include("api.federation_urls")),
    # CKAN's Action API, read actions (docs/interop.md): CKAN answers at both paths.
    path("api/3/action/<str:name>", ckan_action, name="ckan-action"),
    path("api/action/<str:name>", ckan_action, name="ckan-action-unversioned"),
    # DCAT-AP 3 (docs/interop.md): Turtle, JSON-LD, RDF/XML by Accept or by suffix.
    re_path(
        r"^dcat/(?P<scope>catalog|network)(?:\.(?P<suffix>ttl|jsonld|rdf))?$",
        dcat_catalog,
        name="dcat-catalog",
    ),
    re_path(
        r"^dcat/products/(?P<code>[A-Za-z0-9*-]{1,40}?)(?:\.(?P<suffix>ttl|jsonld|rdf))?$",
        dcat_product,
        name="dcat-product",
    ),
    # One version of a listed product's stored history (v1, v2, …; no leading zero).
    re_path(
        r"^dcat/products/(?P<code>[A-Za-z0-9*-]{1,40})/v(?P<version>[1-9][0-9]{0,8})"
        r"(?:\.(?P<suffix>ttl|jsonld|rdf))?$",
        dcat_product,
        name="dcat-product-version",
    ),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    # Swagger UI's start-up script is a file of its own (`?script`): the page's CSP runs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    # ReDoc without drf-spectacular's links to web fonts on another host (api/templates/api/redoc.html).
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html"),
        name="redoc",
    ),
    path("admin/login/", admin_login),  # before the admin's own URLs, which include login/
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),  # Prometheus' default path, without a slash
    # The language switch of the portal (a POST with CSRF; it sets the django_language cookie).
    path("i18n/", include("django.conf.urls.i18n")),
    # The portal's pages for people (docs/portal.md): Home at /, the catalog, sign-in, consoles.
    path("", include("portal.urls")),
]

handler400 = "api.errors.api_bad_request"
handler404 = "api.errors.api_not_found"
handler500 = "api.errors.api_server_error"
