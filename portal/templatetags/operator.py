"""Template helpers of the operator console: `{{ labels|get_label:code }}`, a vocabulary's label of a code
(the code itself when it has none)."""

from django import template

register = template.Library()


@register.filter
def get_label(labels, code):
    return labels.get(code, code) if isinstance(labels, dict) else code
