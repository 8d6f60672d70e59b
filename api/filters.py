import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from demands.models import Demand, DemandStatus
from participants.models import Evaluation, EvaluationStatus, Participant, ParticipantStatus
from participants.selectors import participants_search
from products.facets import FACETS, PRICE_BANDS
from products.models import Product, ProductStatus
from products.selectors import product_filter_recognised_by, product_filter_region, product_search
from standards import participant_vocabularies as vocab
from standards.quality import GRADE_CODES, grades_at_least
from standards.regions import region_is_valid
from standards.segmentation import segment_query
from standards.vocabularies import vocabulary_codes

TRUE, FALSE = frozenset({"true", "True", "1"}), frozenset({"false", "False", "0"})


def query_boolean(value: str | None) -> bool | None:
    """A boolean query parameter as the schema publishes it: true/false (or 1/0); absent or empty: None;
    anything else is refused, not read as "no filter"."""
    if value in (None, ""):
        return None
    if value in TRUE or value in FALSE:
        return value in TRUE
    raise ValidationError("须为 true 或 false", code="invalid")


class _BooleanField(forms.NullBooleanField):
    widget = forms.TextInput  # the text as sent: NullBooleanSelect would read anything unknown as "no filter"

    def to_python(self, value):
        return query_boolean(value)

    def validate(self, value):
        pass


class BooleanFilter(django_filters.BooleanFilter):
    field_class = _BooleanField


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
    data_level = django_filters.ChoiceFilter(
        choices=_choices("data_level"),
        help_text="Data level a 1.1 descriptor declares: general, important, core (undeclared: no match).",
    )
    recognised_by = django_filters.CharFilter(
        method="filter_recognised_by", help_text="Exchange code: only products that exchange recognises."
    )
    quality_grade = django_filters.ChoiceFilter(
        choices=[(g, g) for g in GRADE_CODES],
        method="filter_quality_grade",
        help_text="Minimum grade (A best … D) of a valid quality report: B matches A and B.",
    )
    assessed = BooleanFilter(
        method="filter_assessed", help_text="true: only products with a valid quality report; false: without."
    )
    delivery_method = django_filters.ChoiceFilter(
        choices=_choices("delivery_method"),
        method="filter_facet",
        help_text="A delivery method the descriptor lists (the `delivery_method` facet).",
    )
    price = django_filters.ChoiceFilter(
        choices=[(band[0], band[0]) for band in PRICE_BANDS],
        method="filter_facet",
        help_text="Band of the lowest price in CNY (the `price` facet): free, lt_1k, 1k_10k, 10k_100k, "
        "100k_1m, ge_1m.",
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
        fields = [
            "exchange",
            "industry",
            "form",
            "status",
            "region",
            "provider_uscc",
            "data_level",
            "recognised_by",
            "quality_grade",
            "assessed",
            "delivery_method",
            "price",
            "q",
        ]

    def filter_quality_grade(self, queryset, name, value):
        return queryset.filter(quality_grade__in=grades_at_least(value))

    def filter_assessed(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.exclude(quality_grade="") if value else queryset.filter(quality_grade="")

    def filter_facet(self, queryset, name, value):
        return FACETS[name].filter(queryset, value)

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


# --- Participants and evaluations ---------------------------------------------------------------------------
def _participant_choices(terms):
    return [(t.code, t.code) for t in terms]


class ParticipantFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=_participant_choices(vocab.ROLE), method="filter_role")
    region = django_filters.CharFilter(
        method="filter_region",
        validators=[_region],
        help_text="GB/T 2260 code: the region and units within it.",
    )
    home = django_filters.CharFilter(field_name="home_id", help_text="Home exchange code, e.g. SHDEX.")
    status = django_filters.ChoiceFilter(choices=ParticipantStatus.choices)
    duplicate = BooleanFilter(
        method="filter_duplicate",
        help_text="true: only registrations that lost to an earlier one of the same USCC.",
    )
    q = django_filters.CharFilter(
        method="filter_q", max_length=100, help_text="Legal name (substring) or USCC (prefix)."
    )

    class Meta:
        model = Participant
        fields = ["role", "region", "home", "status", "duplicate", "q"]

    def filter_role(self, queryset, name, value):
        return queryset.filter(roles__icontains=f'"{value}"')

    def filter_region(self, queryset, name, value):
        if value.endswith("0000"):
            return queryset.filter(region__startswith=value[:2])
        if value.endswith("00"):
            return queryset.filter(region__startswith=value[:4])
        return queryset.filter(region=value)

    def filter_duplicate(self, queryset, name, value):
        return queryset.exclude(duplicate_of="") if value else queryset.filter(duplicate_of="")

    def filter_q(self, queryset, name, value):
        return participants_search(queryset, value)


class EvaluationFilter(django_filters.FilterSet):
    subject = django_filters.CharFilter(field_name="subject_id", help_text="Participant id evaluated.")
    dimension = django_filters.ChoiceFilter(choices=_participant_choices(vocab.DIMENSION))
    issuer = django_filters.CharFilter(field_name="issuer_id", help_text="Exchange code or participant id.")
    status = django_filters.ChoiceFilter(choices=EvaluationStatus.choices)
    current = BooleanFilter(method="filter_current", help_text="true: only those that count today.")

    class Meta:
        model = Evaluation
        fields = ["subject", "dimension", "issuer", "status", "current"]

    def filter_current(self, queryset, name, value):
        today = timezone.localdate()
        current = Q(status="active", valid_from__lte=today, valid_until__gte=today)
        return queryset.filter(current) if value else queryset.exclude(current)


class DemandFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DemandStatus.choices)
    industry = django_filters.ChoiceFilter(choices=_choices("industry"))
    form = django_filters.ChoiceFilter(choices=_choices("product_form"), method="filter_form")
    origin = django_filters.CharFilter(field_name="origin", help_text="Exchange where it was posted.")
    demander = django_filters.CharFilter(field_name="demander_id")
    region = django_filters.CharFilter(
        method="filter_region", max_length=6, help_text="GB/T 2260 code the demand asks to cover."
    )
    budget_min = django_filters.NumberFilter(
        field_name="budget_max",
        lookup_expr="gte",
        min_value=0,
        help_text="Budget reaching at least this (CNY).",
    )
    budget_max = django_filters.NumberFilter(
        field_name="budget_min",
        lookup_expr="lte",
        min_value=0,
        help_text="Budget starting at most at this (CNY).",
    )
    q = django_filters.CharFilter(
        method="filter_q", max_length=100, help_text="Chinese search of title and description."
    )

    class Meta:
        model = Demand
        fields = [
            "status",
            "industry",
            "form",
            "origin",
            "demander",
            "region",
            "budget_min",
            "budget_max",
            "q",
        ]

    def filter_form(self, queryset, name, value):
        return queryset.filter(product_forms__icontains=f'"{value}"')

    def filter_region(self, queryset, name, value):
        return queryset.filter(spatial_coverage__icontains=f'"{value}"')

    def filter_q(self, queryset, name, value):
        for token in segment_query(value):
            queryset = queryset.filter(search_text__contains=token)
        return queryset
