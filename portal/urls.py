"""The portal's pages (docs/portal.md): included at the root of the node's URLs, after the API's."""

from django.urls import path

from portal.views import accounts, catalog, home, product

app_name = "portal"

urlpatterns = [
    path("", home.home, name="home"),
    path("catalog/", catalog.catalog, name="catalog"),
    path("catalog/<str:code>/", product.product_page, name="product"),
    path("login/", accounts.login_page, name="login"),
    path("logout/", accounts.logout_page, name="logout"),
]
