"""The portal's pages (docs/portal.md): included at the root of the node's URLs, after the API's."""

from django.urls import path

from portal.views import accounts, catalog, demands, home, participants, product, standards

app_name = "portal"

urlpatterns = [
    path("", home.home, name="home"),
    path("catalog/", catalog.catalog, name="catalog"),
    path("catalog/<str:code>/", product.product_page, name="product"),
    path("login/", accounts.login_page, name="login"),
    path("logout/", accounts.logout_page, name="logout"),
    # public pages: the demand board, participants' trust pages, the standards
    path("demands/", demands.demand_board, name="demands"),
    path("demands/<str:gid>/", demands.demand_page, name="demand"),
    path("participants/<str:pid>/", participants.participant_page, name="participant"),
    path("standards/", standards.standards_page, name="standards"),
    path("standards/naming/", standards.naming_page, name="standards-naming"),
    path("standards/naming/check/", standards.naming_check, name="standards-naming-check"),
    path("standards/compliance/", standards.compliance_page, name="standards-compliance"),
    path("standards/vocabularies/", standards.vocabularies_page, name="standards-vocabularies"),
    path("standards/glossary/", standards.glossary_page, name="standards-glossary"),
]
