"""The portal's pages (docs/portal.md): included at the root of the node's URLs, after the API's."""

from django.urls import path

from portal.views import (
    accounts,
    catalog,
    console_deals,
    console_demands,
    console_home,
    console_products,
    console_responses,
    demands,
    home,
    participants,
    product,
    standards,
)

app_name = "portal"

urlpatterns = [
    path("", home.home, name="home"),
    path("catalog/", catalog.catalog, name="catalog"),
    path("catalog/<str:code>/", product.product_page, name="product"),
    path("login/", accounts.login_page, name="login"),
    path("logout/", accounts.logout_page, name="logout"),
    # The merchant and demander consoles (portal/views/console_*.py)
    path("console/", console_home.console_page, name="console"),
    path("console/notifications/", console_home.notifications_page, name="console-notifications"),
    path(
        "console/notifications/<int:pk>/read/",
        console_home.notification_read_page,
        name="console-notification-read",
    ),
    path("console/products/", console_products.products_page, name="console-products"),
    path("console/products/new/", console_products.product_new, name="console-product-new"),
    path("console/products/check/", console_products.product_check, name="console-product-check"),
    path("console/products/<str:code>/", console_products.product_edit, name="console-product"),
    path(
        "console/products/<str:code>/submit/", console_products.product_submit, name="console-product-submit"
    ),
    path("console/demands/", console_demands.demands_page, name="console-demands"),
    path("console/demands/new/", console_demands.demand_new, name="console-demand-new"),
    path("console/demands/check/", console_demands.demand_check, name="console-demand-check"),
    path("console/demands/<str:gid>/", console_demands.demand_page, name="console-demand"),
    path(
        "console/demands/<str:gid>/responses/<str:rid>/decision/",
        console_demands.response_decide,
        name="console-response-decide",
    ),
    path("console/demands/<str:gid>/respond/", console_responses.respond_page, name="console-respond"),
    path("console/deals/", console_deals.deals_page, name="console-deals"),
    path("console/deals/<str:gid>/", console_deals.deal_page, name="console-deal"),
    path("console/deals/<str:gid>/steps/<str:kind>/", console_deals.deal_step, name="console-deal-step"),
    path("console/order/<str:code>/", console_deals.order_page, name="console-order"),
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
