"""Template helpers every portal page may use (docs/portal.md, "Helpers"):

* `{% localised obj "name" %}`: obj.name_en (or obj["name_en"]) in English, obj.name_zh otherwise;
* `{{ errors|for_field:"descriptor.name" }}`: a FormErrors' messages for one field, in the active language;
* `{% nav_link "/catalog/" label %}`: a header link, `aria-current="page"` on its own section;
* `{% query_with page=2 %}`: the current query string with some parameters replaced (pagination, sorting);
* `{{ item|message }}`: an error-shape item's (or a {message, message_en} dict's) text in the language;
* `{% term "industry" code %}`: a vocabulary code's label (standards.vocabularies), the code if unknown;
* `{% field_title "pricing.min" %}`: a descriptor field's title as the standard's schema gives it;
* `{% query_toggle "industry" "C" %}`: the query string with that filter set, or removed when it is set
  already (and the page reset): facet links;
* `{{ choice|choice_label }}`: a model choice's bilingual label ("上架 Listed") in the language;
* `{% terms "delivery_method" codes %}`: a list of codes' labels joined as the language joins them (、 or ,);
  `{% terms "" words %}` joins plain words so.
"""

from django import template
from django.utils import translation
from django.utils.html import format_html

from portal.descriptor import field_title as _field_title
from portal.forms import FormErrors, in_language
from standards.vocabularies import vocabulary_label

register = template.Library()


def _english() -> bool:
    return (translation.get_language() or "").startswith("en")


@register.simple_tag
def localised(obj, name: str):
    suffix = "en" if _english() else "zh"
    key = f"{name}_{suffix}"
    if isinstance(obj, dict):
        return obj.get(key) or obj.get(f"{name}_zh") or ""
    return getattr(obj, key, None) or getattr(obj, f"{name}_zh", "")


@register.filter
def for_field(errors, name: str) -> list[str]:
    return errors.for_field(name) if isinstance(errors, FormErrors) else []


@register.filter
def message(item) -> str:
    return in_language(item) if isinstance(item, dict) else str(item)


@register.simple_tag(takes_context=True)
def nav_link(context, href: str, label: str):
    request = context.get("request")
    path = request.path if request is not None else ""
    current = path == href if href == "/" else path.startswith(href)
    if current:
        return format_html('<a href="{}" aria-current="page">{}</a>', href, label)
    return format_html('<a href="{}">{}</a>', href, label)


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag
def term(vocabulary: str, code) -> str:
    found = vocabulary_label(vocabulary, code)
    if found is None:
        return "" if code is None else str(code)
    return found.en if _english() else found.zh


@register.simple_tag
def field_title(path: str) -> str:
    return _field_title(path, english=_english())


@register.simple_tag(takes_context=True)
def query_toggle(context, name: str, value) -> str:
    query = context["request"].GET.copy()
    query.pop("page", None)
    if query.get(name) == str(value):
        query.pop(name, None)
    else:
        query[name] = str(value)
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def choice_label(label) -> str:
    """ "上架 Listed" → 上架 in Chinese, Listed in English (the models' choice labels carry both)."""
    zh, _, en = str(label).partition(" ")
    return (en or zh) if _english() else zh


@register.filter
def get_item(mapping, key):
    """mapping[key] (a sample record's column), empty when absent."""
    if isinstance(mapping, dict):
        value = mapping.get(key)
        return "" if value is None else value
    return ""


@register.simple_tag
def terms(vocabulary: str, codes) -> str:
    items = codes if isinstance(codes, (list, tuple)) else []
    shown = [term(vocabulary, code) if vocabulary else str(code) for code in items]
    return (", " if _english() else "、").join(shown)
