from rest_framework.pagination import PageNumberPagination


class StablePageNumberPagination(PageNumberPagination):
    """Page-number pagination. Every list view orders by a unique key last, so pages never overlap."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
