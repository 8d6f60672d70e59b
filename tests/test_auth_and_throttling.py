from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from accounts.services import api_token_issue

pytestmark = pytest.mark.django_db


def _get(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/api/v1/products/")


def test_tokens_are_stored_hashed(alice):
    raw = api_token_issue(user=alice)
    stored = ApiToken.objects.get(user=alice)
    assert raw not in (stored.key_hash, stored.prefix) and stored.key_hash != raw
    assert _get(raw).status_code == 200


def test_expired_and_revoked_tokens_are_refused(alice):
    expired = api_token_issue(user=alice, ttl=timedelta(seconds=-1))
    assert _get(expired).status_code == 401
    raw = api_token_issue(user=alice)
    ApiToken.objects.filter(prefix=raw[:12]).update(revoked_at=timezone.now())
    assert _get(raw).status_code == 401


def test_inactive_user_token_is_refused(alice):
    raw = api_token_issue(user=alice)
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert _get(raw).status_code == 401


def test_operator_token_command_prints_token_last(capsys):
    call_command("operator_token", "shdex", "carol")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    user = User.objects.get(username="carol")
    assert user.exchange_id == "SHDEX" and user.role == User.Role.OPERATOR
    assert _get(token).status_code == 200


def test_operator_token_refuses_unknown_exchange():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="unknown exchange"):
        call_command("operator_token", "XXXXX", "carol")


def test_anonymous_reads_are_throttled(anon, settings):
    from api.throttling import AnonReadThrottle

    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "3/min"}
    original = AnonReadThrottle.THROTTLE_RATES
    AnonReadThrottle.THROTTLE_RATES = rates
    try:
        statuses = [anon.get("/api/v1/exchanges/").status_code for _ in range(5)]
    finally:
        AnonReadThrottle.THROTTLE_RATES = original
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    response = anon.get("/api/v1/exchanges/")
    assert response.status_code == 200  # rate restored


def test_throttled_response_has_the_error_shape_and_retry_after(anon):
    from api.throttling import AnonReadThrottle

    original = AnonReadThrottle.THROTTLE_RATES
    AnonReadThrottle.THROTTLE_RATES = {**original, "anon": "1/min"}
    try:
        anon.get("/api/v1/exchanges/")
        response = anon.get("/api/v1/exchanges/")
    finally:
        AnonReadThrottle.THROTTLE_RATES = original
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled" and "Retry-After" in response
