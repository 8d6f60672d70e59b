"""The network's standards for people (一套标准，全国共通): rendered from the very data the standards API
serves (GET /api/v1/standards/…), and the live naming check (the check of POST …/naming/check/)."""

from django.conf import settings
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_POST

from api.serializers.standards import (
    NamingCheckRequestSerializer,
    NamingVerdictSerializer,
    TermQuerySerializer,
)
from portal.forms import FormErrors, form_data, validate
from products.checks import naming_verdict
from standards import participant_vocabularies
from standards.compliance import compliance_rules_as_json
from standards.descriptor import descriptor_json_schema
from standards.naming import naming_rules_as_json
from standards.terminology import term_as_json, terms_all
from standards.terminology_search import terms_search
from standards.versions import standards_all
from standards.vocabularies import VOCABULARIES, vocabularies_as_json

SECTIONS = ("descriptor", "naming", "compliance", "vocabularies", "glossary")


def _english() -> bool:
    return (translation.get_language() or "").startswith("en")


def _bilingual(text: str) -> str:
    """The schema's "中文 / English" descriptions, in the visitor's language."""
    zh, _sep, en = (text or "").partition(" / ")
    return (en or zh) if _english() else zh


def _descriptor_fields() -> list[dict]:
    schema = descriptor_json_schema()
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "required": name in required,
            "type": prop.get("type") or ("object" if "$ref" in prop else ""),
            "description": _bilingual(prop.get("description") or prop.get("title") or ""),
        }
        for name, prop in schema["properties"].items()
    ]


def standards_page(request):
    context = {
        "standards": [s.as_json() for s in standards_all()],
        "fields": _descriptor_fields(),
        "section": "descriptor",
    }
    return render(request, "portal/standards/index.html", context)


def _naming_context(values: dict, errors: FormErrors, verdict=None) -> dict:
    return {
        "section": "naming",
        "naming": naming_rules_as_json(),
        "forms": [{"code": t.code, "name_zh": t.zh, "name_en": t.en} for t in VOCABULARIES["product_form"]],
        "values": values,
        "errors": errors,
        "verdict": verdict,
    }


def naming_page(request):
    return render(request, "portal/standards/naming.html", _naming_context({}, FormErrors()))


@require_POST
def naming_check(request):
    values = form_data(request.POST, NamingCheckRequestSerializer)
    coverage = request.POST.get("spatial_coverage", "")
    values["spatial_coverage"] = [c for c in coverage.replace("，", ",").replace(" ", ",").split(",") if c]
    data, errors = validate(NamingCheckRequestSerializer, values)
    verdict = None
    if data is not None:
        verdict = NamingVerdictSerializer(naming_verdict(data, exchange_id=settings.NODE_CODE)).data
    shown = {**values, "spatial_coverage": coverage}
    context = _naming_context(shown, errors, verdict)
    template = (
        "portal/standards/naming_verdict.html"
        if request.headers.get("HX-Request")
        else "portal/standards/naming.html"
    )
    return render(request, template, context, status=errors.status if errors else 200)


def compliance_page(request):
    context = {"section": "compliance", "compliance": compliance_rules_as_json()}
    return render(request, "portal/standards/compliance.html", context)


def vocabularies_page(request):
    context = {
        "section": "vocabularies",
        "vocabularies": vocabularies_as_json(),
        "participant": participant_vocabularies.as_json(),
    }
    return render(request, "portal/standards/vocabularies.html", context)


def glossary_page(request):
    values = {"q": request.GET.get("q", "")}
    data, errors = validate(TermQuerySerializer, {k: v for k, v in values.items() if v})
    terms = []
    if data is not None:
        q = data.get("q", "")
        terms = [term_as_json(t) for t in (terms_search(q=q) if q else terms_all())]
    context = {"section": "glossary", "terms": terms, "values": values, "errors": errors}
    template = (
        "portal/standards/glossary_results.html"
        if request.headers.get("HX-Request")
        else "portal/standards/glossary.html"
    )
    return render(request, template, context, status=errors.status if errors else 200)
