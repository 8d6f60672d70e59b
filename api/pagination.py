from rest_framework.pagination import PageNumberPagination

from standards.terminology import glossary


class StablePageNumberPagination(PageNumberPagination):
    """Page-number pagination. Every list view orders by a unique key last, so pages never overlap.

    A search for a very common term ranks only its newest matches (products.selectors.RANK_WINDOW); then
    `count` counts those and `count_exact` is false.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        ranking = getattr(queryset, "search_ranking", None)
        if ranking is not None:
            queryset = RankedResults(ranking)
        return super().paginate_queryset(queryset, request, view)

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
