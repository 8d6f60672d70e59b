"""The portal's pages (docs/portal.md): included at the root of the node's URLs, after the API's."""

from django.urls import path

from portal.views import accounts, home, operator, operator_disputes, operator_federation

app_name = "portal"

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", accounts.login_page, name="login"),
    path("logout/", accounts.logout_page, name="logout"),
    # The operator console (portal/views/operator*.py)
    path("console/operator/", operator.console, name="operator"),
    path("console/operator/reviews/", operator.reviews, name="operator-reviews"),
    path("console/operator/reviews/<str:code>/", operator.review, name="operator-review"),
    path("console/operator/participants/", operator.participants, name="operator-participants"),
    path(
        "console/operator/participants/<str:participant_id>/", operator.verification, name="operator-verify"
    ),
    path("console/operator/recognitions/", operator_federation.recognitions, name="operator-recognitions"),
    path(
        "console/operator/recognitions/<str:code>/",
        operator_federation.recognition,
        name="operator-recognition",
    ),
    path("console/operator/quarantine/", operator_federation.quarantine, name="operator-quarantine"),
    path(
        "console/operator/quarantine/actions/",
        operator_federation.quarantine_action,
        name="operator-quarantine-action",
    ),
    path("console/operator/federation/", operator_federation.federation_health, name="operator-federation"),
    path("console/operator/disputes/", operator_disputes.disputes, name="operator-disputes"),
    path(
        "console/operator/disputes/<str:deal>/<str:dispute>/",
        operator_disputes.dispute,
        name="operator-dispute",
    ),
    path(
        "console/operator/disputes/<str:deal>/<str:dispute>/<str:action>/",
        operator_disputes.dispute_action,
        name="operator-dispute-action",
    ),
]
