# ruff: noqa: F811 - the fixtures of tests/test_deal_replication.py are imported and taken as arguments
"""A deal's `outcome` step is the coordinating exchange's (the product's home) alone: a peer's outcome step
in any other role, from another node, or with a malformed body is refused by the replica's clean, naming the
rule, and nothing is stored (peer data is untrusted)."""

import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from deals.models import DealStep
from deals.replicas import STEP
from federation.payloads import time_text
from tests.test_deal_replication import BUYER, deal  # noqa: F401 - fixture
from tests.test_federation_apply import bjidx_key  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]
LATER = f"SHDEX-{'e' * 32}"
BODY = {
    "dispute": f"BJIDX-{'d' * 32}",
    "kind": "dismissed",
    "refund_amount": "0.00",
    "redeliver_within_days": None,
}


def _outcome(held, **change):
    gid = f"BJIDX-{uuid.uuid4().hex}"
    payload = {
        "id": gid,
        "deal": held.gid,
        "audience": held.audience,
        "seq": 3,
        "kind": "outcome",
        "role": "coordinator",
        "actor": "BJIDX",
        "at": time_text(timezone.now()),
        "offer_version": None,
        "body": dict(BODY),
    }
    return gid, {**payload, **change}


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"role": "buyer", "actor": BUYER}, "role", "not_allowed"),
        ({}, "actor", "not_coordinator"),  # BJIDX names itself coordinator: the deal's is SHDEX
        ({"actor": "SHDEX"}, "actor", "mismatch"),
        # Of a deal not held here (yet): the body is still checked.
        ({"deal": LATER, "body": {**BODY, "kind": "refund_all"}}, "body.kind", "invalid_choice"),
        (
            {"deal": LATER, "body": {**BODY, "redeliver_within_days": 3}},
            "body.redeliver_within_days",
            "not_allowed",
        ),
        ({"deal": LATER, "body": {**BODY, "kind": "redelivery"}}, "body.redeliver_within_days", "range"),
    ],
)
def test_a_peers_outcome_step_is_refused_naming_the_rule(deal, change, field, code):
    gid, payload = _outcome(deal, **change)
    with transaction.atomic():
        errors = STEP.apply_batch("BJIDX", [(gid, 1, payload)])
    assert (field, code) in [(e.field, e.code) for e in errors[gid].errors]
    assert not DealStep.objects.filter(kind="outcome").exists()
