"""What the quality tests share: assessors (service providers offering quality_assessment, registered here or
at a peer), a report body, and a peer's report payload as its origin would publish it."""

from __future__ import annotations

import datetime as dt
import random
import uuid

from django.utils import timezone
from rest_framework.test import APIClient

from participants.models import Participant
from products.sample_data import make_uscc
from standards import quality
from tests.factories import register_provider

_rng = random.Random(20261205)
PASSWORD = "Harbor-7Lantern-Quill"


def new_uscc() -> str:
    return make_uscc(_rng)


def login(username: str, password: str = PASSWORD) -> APIClient:
    client = APIClient()
    pair = client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert pair.status_code == 200, pair.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.json()['access']}")
    return client


def assessor(
    *, roles=("service_provider",), services=("quality_assessment",), status="verified"
) -> tuple[str, APIClient]:
    """A participant registered at this node (SHDEX) and a logged-in client of its user."""
    uscc = new_uscc()
    username = f"qa{uscc[-6:].lower()}"
    register_provider(
        uscc,
        "质检数据评估有限公司",
        roles=roles,
        services=list(services),
        account={"username": username, "password": PASSWORD},
    )
    client = login(username)
    if status != "verified":
        from participants.services import participant_set_status

        registration = Participant.objects.get(participant_id=uscc)
        participant_set_status(actor=None, participant=registration, status=status, reason="测试")
    return uscc, client


def peer_assessor(home: str = "BJIDX", **overrides) -> str:
    """A service provider registered at a peer, as its replica is held here."""
    uscc = new_uscc()
    fields = {
        "participant_id": uscc,
        "home_id": home,
        "is_home": False,
        "legal_name": "北京质量评估有限公司",
        "entity_type": "enterprise",
        "region": uscc[2:8],
        "roles": ["service_provider"],
        "services": ["quality_assessment"],
        "status": "verified",
        "registered_at": timezone.now(),
        "verified_at": timezone.now(),
    }
    fields.update(overrides)
    Participant.objects.create(**fields)
    return uscc


def body(score: int = 80, **changes) -> dict:
    today = timezone.localdate()
    data = {
        "dimensions": {
            code: {"score": score, "method": "抽样核验", "evidence": "抽取1000条记录逐项核验"}
            for code in quality.DIMENSION_CODES
        },
        "summary": "总体良好",
        "reference": "ZJ-2026-0042",
        "assessed_at": today.isoformat(),
        "valid_until": (today + dt.timedelta(days=365)).isoformat(),
    }
    data.update(changes)
    return data


def peer_payload(
    origin: str, product: str, assessor_id: str, *, score: int = 80, **changes
) -> tuple[str, dict]:
    """(gid, payload) of a report `origin` publishes about `product`."""
    gid = f"{origin}-{uuid.uuid4().hex}"
    today = timezone.localdate()
    scores = {
        code: {"score": score, "method": "抽样核验", "evidence": "抽取1000条记录逐项核验"}
        for code in quality.DIMENSION_CODES
    }
    payload = {
        "id": gid,
        "product": product,
        "product_version": 1,
        "assessor_type": "exchange" if assessor_id == origin else "participant",
        "assessor_id": assessor_id,
        "assessor_name": "北京质量评估有限公司",
        "reference": "BJ-QA-7",
        "dimensions": scores,
        "overall_score": score,
        "grade": quality.grade_for(score),
        "summary": "",
        "assessed_at": today.isoformat(),
        "valid_until": (today + dt.timedelta(days=180)).isoformat(),
        "status": "active",
        "withdrawn_reason": "",
        "issued_at": timezone.now().isoformat(),
    }
    payload.update(changes)
    return gid, payload
