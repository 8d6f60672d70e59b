from django.urls import path

from api.views import federation as views

app_name = "federation"
urlpatterns = [
    path("node/", views.NodeIdentityView.as_view(), name="node"),
    path("feed/<str:origin>/", views.FeedView.as_view(), name="feed"),
    path("wake/", views.WakeView.as_view(), name="wake"),
    path("private/", views.PrivateBatchView.as_view(), name="private-batch"),
    path(
        "private/<str:origin>/<str:record_type>/<str:gid>/",
        views.PrivateEntryView.as_view(),
        name="private",
    ),
    path("digests/", views.DigestsView.as_view(), name="digests-all"),
    path("digests/<str:origin>/", views.DigestView.as_view(), name="digests"),
    path("status/", views.StatusView.as_view(), name="status"),
]
