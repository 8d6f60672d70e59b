from django.urls import include, path
from rest_framework.routers import SimpleRouter

from api.views.conflicts import ConflictViewSet
from api.views.deal_stats import DealStatsView
from api.views.deals import DealViewSet, ExchangeTermsView
from api.views.demands import (
    DemandStatsView,
    DemandViewSet,
    OpportunitiesView,
    ResponseDecisionView,
    ResponseView,
    ResponseWithdrawView,
)
from api.views.disputes import (
    ACTION_VIEWS,
    DealDisputesView,
    DisputeQueueView,
    DisputeView,
    DisputeVocabulariesView,
)
from api.views.exchanges import ExchangeViewSet
from api.views.logins import LoginView, PasswordView, RefreshView
from api.views.node import NodeView
from api.views.notifications import NotificationViewSet, WebhookViewSet
from api.views.participants import EvaluationViewSet, ParticipantViewSet
from api.views.products import ProductViewSet
from api.views.quality import QualityReportViewSet, QualityStandardView, RecognitionPolicyView
from api.views.standard_versions import StandardContentView, StandardListView
from api.views.standards import (
    DescriptorCheckView,
    DescriptorSchemaView,
    NamingCheckView,
    ParticipantVocabulariesView,
    ProductCodeCheckView,
    TermViewSet,
    UsagePolicySchemaView,
    VocabulariesView,
)

router = SimpleRouter(trailing_slash=True)
router.register("exchanges", ExchangeViewSet, basename="exchange")
router.register("products", ProductViewSet, basename="product")
router.register("participants/conflicts", ConflictViewSet, basename="participant-conflict")
router.register("participants", ParticipantViewSet, basename="participant")
router.register("evaluations", EvaluationViewSet, basename="evaluation")
router.register("demands", DemandViewSet, basename="demand")
router.register("deals", DealViewSet, basename="deal")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("standards/terms", TermViewSet, basename="term")
router.register("quality-reports", QualityReportViewSet, basename="quality-report")

app_name = "api"
urlpatterns = [
    path("node/", NodeView.as_view(), name="node"),
    path("exchanges/<str:code>/terms/", ExchangeTermsView.as_view(), name="exchange-terms"),
    path("standards/", StandardListView.as_view(), name="standards"),
    path("standards/versions/<str:code>/", StandardContentView.as_view(), name="standard-version"),
    path(
        "exchanges/<str:code>/recognition-policy/",
        RecognitionPolicyView.as_view(),
        name="exchange-recognition-policy",
    ),
    path("standards/product-descriptor/", DescriptorSchemaView.as_view(), name="descriptor-schema"),
    path("standards/product-descriptor/validate/", DescriptorCheckView.as_view(), name="descriptor-validate"),
    path("standards/usage-policy/", UsagePolicySchemaView.as_view(), name="usage-policy-schema"),
    path("standards/vocabularies/", VocabulariesView.as_view(), name="vocabularies"),
    path(
        "standards/participant-vocabularies/",
        ParticipantVocabulariesView.as_view(),
        name="participant-vocabularies",
    ),
    path("standards/quality/", QualityStandardView.as_view(), name="quality-standard"),
    path("standards/naming/check/", NamingCheckView.as_view(), name="naming-check"),
    path("standards/product-code/check/", ProductCodeCheckView.as_view(), name="product-code-check"),
    path("auth/token/", LoginView.as_view(), name="auth-token"),
    path("auth/token/refresh/", RefreshView.as_view(), name="auth-token-refresh"),
    path("auth/password/", PasswordView.as_view(), name="auth-password"),
    path("demands/<str:id>/responses/<str:rid>/", ResponseView.as_view(), name="demand-response"),
    path(
        "demands/<str:id>/responses/<str:rid>/decision/",
        ResponseDecisionView.as_view(),
        name="demand-response-decision",
    ),
    path(
        "demands/<str:id>/responses/<str:rid>/withdraw/",
        ResponseWithdrawView.as_view(),
        name="demand-response-withdraw",
    ),
    path("opportunities/", OpportunitiesView.as_view(), name="opportunities"),
    path("stats/demands/", DemandStatsView.as_view(), name="demand-stats"),
    path("stats/deals/", DealStatsView.as_view(), name="deal-stats"),
    path("deals/<str:id>/disputes/", DealDisputesView.as_view(), name="deal-disputes"),
    path("deals/<str:id>/disputes/<str:dispute>/", DisputeView.as_view(), name="deal-dispute"),
    *(
        path(
            f"deals/<str:id>/disputes/<str:dispute>/{action}/", view.as_view(), name=f"deal-dispute-{action}"
        )
        for action, view in ACTION_VIEWS.items()
    ),
    path("disputes/", DisputeQueueView.as_view(), name="disputes"),
    path("standards/dispute-vocabularies/", DisputeVocabulariesView.as_view(), name="dispute-vocabularies"),
    path("", include(router.urls)),
]
