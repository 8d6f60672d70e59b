from django.core.paginator import InvalidPage
from rest_framework.pagination import PageNumberPagination

from core.exceptions import FieldError, NotFound, ValidationFailed
from products.facets import FACET_NAMES
from standards.terminology import glossary


class StablePageNumberPagination(PageNumberPagination):
    """Page-number pagination. Every list view orders by a unique key last, so pages never overlap.

    `page` is a whole number from 1 and `page_size` one from 1 to 100: anything else is refused with 400
    naming the parameter; a page past the last answers 404 naming `page` (docs/api.md, *Pagination*).

    A search for a very common term ranks only its newest matches (products.selectors.RANK_WINDOW); then
    `count` counts those and `count_exact` is false.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    last_page_strings = ()  # `?page=last` is not a whole number either

    def paginate_queryset(self, queryset, request, view=None):
        number = _whole(request.query_params, self.page_query_param, 1, None)
        self.request = request
        size = self.get_page_size(request)
        ranking = getattr(queryset, "search_ranking", None)
        if ranking is not None:
            queryset = RankedResults(ranking)
        paginator = self.django_paginator_class(queryset, size)
        try:
            self.page = paginator.page(number or 1)
        except InvalidPage:
            raise NotFound(
                message="页码超出范围",
                message_en="No such page",
                code="not_found",
                errors=[
                    FieldError(
                        "page",
                        "out_of_range",
                        f"页码须为 1–{paginator.num_pages}",
                        f"page is 1 to {paginator.num_pages}",
                    )
                ],
            ) from None
        return list(self.page)

    def get_page_size(self, request):
        size = _whole(request.query_params, self.page_size_query_param, 1, self.max_page_size)
        return size or self.page_size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "default": 1}
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
        return parameters

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_exact"] = getattr(self.request, "search_exhaustive", True)
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_exact"] = {
            "type": "boolean",
            "description": "False when a search term was so common that only its newest matches were ranked "
            "and counted.",
        }
        return schema


def _whole(params, name: str, minimum: int, maximum: int | None) -> int | None:
    """The query parameter `name` as a whole number in its range; None when absent; 400 otherwise."""
    raw = params.get(name)
    if raw is None:
        return None
    value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None
    if value is None and maximum is None and raw.isascii() and raw.isdigit():
        value = 10**9  # a whole number too long to read is past any end: the caller's 404, not a 400
    if value is None or value < minimum or (maximum is not None and value > maximum):
        rule = f"{minimum}–{maximum}" if maximum is not None else f"≥ {minimum}"
        raise ValidationFailed(
            [FieldError(name, "invalid", f"须为整数 {rule}", f"{name} must be a whole number {rule}")]
        )
    return value


class RankedResults:
    """A search's ranked matches as the object list of Django's paginator: counted from the ranking and a
    page read by primary key (products.selectors.SearchRanking), not by running the search again."""

    def __init__(self, ranking):
        self.ranking = ranking

    def count(self) -> int:
        return len(self.ranking.entries)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice) or index.step is not None:
            raise TypeError("RankedResults supports plain slices only")
        return self.ranking.page(index.start or 0, index.stop)


class GlossaryPagination(StablePageNumberPagination):
    """Pages of the glossary, each naming the glossary's version and hash (to compare with a peer's)."""

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        current = glossary()
        response.data["version"] = current.version
        response.data["sha256"] = current.sha256
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["version"] = {"type": "string", "description": "The glossary's version."}
        schema["properties"]["sha256"] = {
            "type": "string",
            "description": "SHA-256 of the glossary file's RFC 8785 canonical JSON.",
        }
        schema["required"] = [*schema.get("required", []), "version", "sha256"]
        return schema


FACET_VALUE_SCHEMA = {
    "type": "object",
    "properties": {
        "value": {"type": "string", "description": "The code filtered on (the facet's filter parameter)."},
        "label_zh": {"type": "string"},
        "label_en": {"type": "string"},
        "count": {"type": "integer", "minimum": 1, "description": "Products in the result with this value."},
    },
    "required": ["value", "label_zh", "label_en", "count"],
}


class ProductPagination(StablePageNumberPagination):
    """Pages of products, with the facet counts the request asked for (`?facets=`, products.facets)."""

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        facets = getattr(self.request, "product_facets", None)
        if facets is not None:
            response.data["facets"] = {
                name: [vars(value) for value in values] for name, values in facets.items()
            }
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["facets"] = {
            "type": "object",
            "description": "Present when `facets` was asked for: for each facet asked for, the count of "
            "products in the whole result (every page) per value, most frequent first.",
            "properties": {name: {"type": "array", "items": FACET_VALUE_SCHEMA} for name in FACET_NAMES},
            "additionalProperties": False,
        }
        return schema
