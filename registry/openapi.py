"""drf-spectacular's settings (`SPECTACULAR_SETTINGS`): the OpenAPI document's title, the offline Swagger UI
and ReDoc, enum names and the token scheme. Nothing here depends on the environment."""

OPENAPI = {
    "TITLE": "Data Exchange Mutual Recognition Registry — node API (数据交易机构互认互通)",
    "DESCRIPTION": (
        "The HTTP API of one exchange node: exchanges directory, the product descriptor standard, naming "
        "rules and product listing at the home exchange (一地上架，全国互认)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    # Swagger UI would show a badge from an online validator (an image from another host, which the pages'
    # Content-Security-Policy refuses anyway): the node's schema is validated by `make schema`.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ProductStatusEnum": "products.models.ProductStatus",
        "RecognitionStatusEnum": "products.models.RecognitionStatus",
        "VersionActorKindEnum": "products.models.ProductVersion.ActorKind",
        "ParticipantStatusEnum": "participants.models.ParticipantStatus",
        "EvaluationStatusEnum": "participants.models.EvaluationStatus",
        # A quality report's assessor_type has the same choices as an evaluation's issuer_type.
        "IssuerTypeEnum": "participants.models.Evaluation.IssuerType",
        "QualityReportStatusEnum": "quality.models.ReportStatus",
        "ParticipantRecognitionStatusEnum": "participants.models.ParticipantRecognition.Status",
        "VerificationStatusEnum": [
            ("verified", "verified"),
            ("suspended", "suspended"),
            ("revoked", "revoked"),
        ],
    },
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "tokenAuth": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`Token <key>` (or `Bearer <key>`); `manage.py operator_token` prints one.",
            }
        }
    },
}
