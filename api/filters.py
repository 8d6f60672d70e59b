import django_filters
from django.core.exceptions import ValidationError

from products.models import Product, ProductStatus
from products.selectors import product_filter_recognised_by, product_filter_region, product_search
from products.standards.regions import region_is_valid
from products.standards.vocabularies import vocabulary_codes


def _choices(name: str):
    return [(c, c) for c in sorted(vocabulary_codes(name))]


def _region(value: str) -> None:
    if not region_is_valid(value):
        raise ValidationError("不是有效的 GB/T 2260 行政区划代码", code="invalid_choice")


class ProductFilter(django_filters.FilterSet):
    exchange = django_filters.CharFilter(
        field_name="exchange_id", help_text="Home exchange code, e.g. SHDEX."
    )
    industry = django_filters.ChoiceFilter(choices=_choices("industry"), help_text="GB/T 4754 section, A–T.")
    form = django_filters.ChoiceFilter(field_name="product_form", choices=_choices("product_form"))
    status = django_filters.ChoiceFilter(choices=ProductStatus.choices)
    region = django_filters.CharFilter(
        method="filter_region",
        validators=[_region],
        help_text="GB/T 2260 code; matches products covering it, its province, or the whole country.",
    )
    provider_uscc = django_filters.CharFilter(field_name="provider_uscc")
    recognised_by = django_filters.CharFilter(
        method="filter_recognised_by", help_text="Exchange code: only products that exchange recognises."
    )

    # Declared last on purpose: filters run in declaration order, and a search ranks within what the other
    # filters left (its ranking window must not be cut before them).
    q = django_filters.CharFilter(
        method="filter_q",
        max_length=100,
        help_text="Chinese full-text search over name, keywords and summary (jieba).",
    )

    class Meta:
        model = Product
        fields = ["exchange", "industry", "form", "status", "region", "provider_uscc", "recognised_by", "q"]

    def filter_recognised_by(self, queryset, name, value):
        return product_filter_recognised_by(queryset, exchange_code=value.upper())

    def filter_q(self, queryset, name, value):
        if not value.strip():
            return queryset
        queryset, exhaustive = product_search(queryset, q=value)
        if self.request is not None:
            self.request.search_exhaustive = exhaustive  # read by the paginator's count_exact
        return queryset

    def filter_region(self, queryset, name, value):
        return product_filter_region(queryset, code=value)
