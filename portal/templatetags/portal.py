"""Template helpers every portal page may use (docs/portal.md, "Helpers"):

* `{% localised obj "name" %}`: obj.name_en (or obj["name_en"]) in English, obj.name_zh otherwise;
* `{{ errors|for_field:"descriptor.name" }}`: a FormErrors' messages for one field, in the active language;
* `{% nav_link "/catalog/" label %}`: a header link, `aria-current="page"` on its own section;
* `{% query_with page=2 %}`: the current query string with some parameters replaced (pagination, sorting);
* `{{ item|message }}`: an error-shape item's (or a {message, message_en} dict's) text in the language.
"""

from django import template
from django.utils import translation
from django.utils.html import format_html

from portal.forms import FormErrors, in_language

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
