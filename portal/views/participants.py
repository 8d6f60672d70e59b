"""A participant's trust page (一地注册，全国互信): its standing, which exchanges recognise it, and the
evaluations that count today by dimension, from the selector behind GET /api/v1/participants/{id}/trust/.
Only the public profile is shown: contacts, phone, email and documents never leave the home node's API."""

from statistics import mean

from django.http import Http404
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

from participants.selectors import participant_get, trust_view
from standards import participant_vocabularies as vocab
from standards.members import members
from standards.regions import region_display_name


def _label(terms, code: str) -> str:
    english = (translation.get_language() or "").startswith("en")
    term = next((t for t in terms if t.code == code), None)
    return code if term is None else (term.en if english else term.zh)


def _recognitions(view: dict) -> list[dict]:
    by_exchange = {r.exchange_id: r for r in view["recognitions"]}
    rows = []
    for member in members():
        row = by_exchange.get(member.code)
        rows.append(
            {"exchange": member, "status": row.status if row else "", "reasons": row.reasons if row else []}
        )
    return rows


def _dimensions(view: dict) -> list[dict]:
    rows = []
    for dimension in vocab.DIMENSION:
        evaluations = view["evaluations"].get(dimension.code, [])
        rows.append(
            {
                "code": dimension.code,
                "label": _label(vocab.DIMENSION, dimension.code),
                "evaluations": evaluations,
                "score": round(mean(e.score for e in evaluations), 1) if evaluations else None,
            }
        )
    return rows


def _chart(dimensions: list[dict]) -> dict:
    """Chart.js's configuration: the mean score of the current evaluations of each dimension (0–100)."""
    return {
        "type": "bar",
        "data": {
            "labels": [d["label"] for d in dimensions],
            "datasets": [
                {
                    "label": _("平均评分"),
                    "data": [d["score"] if d["score"] is not None else 0 for d in dimensions],
                    "backgroundColor": "#1f5fa8",
                }
            ],
        },
        "options": {
            "maintainAspectRatio": False,
            "animation": False,
            "scales": {"y": {"min": 0, "max": 100}},
            "plugins": {"legend": {"display": False}},
        },
    }


def participant_page(request, pid: str):
    participant = participant_get(pid.upper())
    if participant is None:
        raise Http404
    view = trust_view(participant)
    dimensions = _dimensions(view)
    context = {
        "participant": participant,
        "entity_type": _label(vocab.ENTITY_TYPE, participant.entity_type),
        "roles": [_label(vocab.ROLE, r) for r in participant.roles or []],
        "services": [_label(vocab.SERVICE, s) for s in participant.services or []],
        "region": region_display_name(participant.region) or participant.region,
        "recognitions": _recognitions(view),
        "recognised_count": len(view["recognised_by"]),
        "dimensions": dimensions,
        "has_evaluations": any(d["evaluations"] for d in dimensions),
        "chart": _chart(dimensions),
    }
    return render(request, "portal/participant.html", context)
