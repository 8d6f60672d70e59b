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


def test_operator_token_refuses_another_nodes_exchange_and_says_how(settings):
    """The user would be made in this node's database, where no node of that exchange looks for it."""
    from django.core.management import CommandError

    settings.NODE_CODE = "SHDEX"
    with pytest.raises(CommandError, match=r"NODE_CODE=BJIDX .*manage.py operator_token BJIDX bob"):
        call_command("operator_token", "bjidx", "bob")
    assert not User.objects.filter(username="bob").exists()

    settings.NODE_CODE = "BJIDX"  # run as BJIDX's node, as the message says
    call_command("operator_token", "BJIDX", "bob")
    assert User.objects.get(username="bob").exchange_id == "BJIDX"


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


ADMIN_LOGIN = "/admin/login/"
GUESS = "Wrong-guess-4471"


@pytest.fixture
def fast_hashing(settings):
    """Every login attempt hashes a password (an unknown user's too): a cheap hasher keeps these short."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _admin_login(address: str, username: str, password: str = GUESS):
    from django.test import Client

    client = Client(REMOTE_ADDR=address)
    return client.post(ADMIN_LOGIN, {"username": username, "password": password, "next": "/admin/"})


def _assert_throttled(response):
    assert response.status_code == 429, response.content
    error = response.json()["error"]
    assert error["status"] == 429 and error["code"] == "throttled" and error["message_en"]
    assert int(response["Retry-After"]) > 0


def test_admin_login_guessing_at_one_username_is_limited_from_any_address(root, fast_hashing):
    root.set_password("Root-pass-8812")
    root.save()
    for i in range(10):  # THROTTLE_LOGIN: 10/min per username, a new address for every guess
        assert _admin_login(f"203.0.113.{i + 1}", "root").status_code == 200  # the form again, with its error
    _assert_throttled(_admin_login("198.51.100.7", "root", "Root-pass-8812"))  # even the right password
    assert _admin_login("198.51.100.7", "someone-else").status_code == 200
    from django.test import Client

    assert Client(REMOTE_ADDR="198.51.100.7").get(ADMIN_LOGIN).status_code == 200  # the page still shows


def test_admin_login_from_one_address_is_limited_whatever_the_username(root, fast_hashing):
    root.set_password("Root-pass-8812")
    root.save()
    assert _admin_login("192.0.2.1", "root", "Root-pass-8812").status_code == 302  # in, below the limits
    for i in range(10):
        assert _admin_login("192.0.2.9", f"user-{i}").status_code == 200
    _assert_throttled(_admin_login("192.0.2.9", "user-last"))
    assert _admin_login("192.0.2.10", "user-last").status_code == 200  # another address


def test_admin_and_participant_logins_count_together_per_username(anon, fast_hashing):
    for i in range(10):
        client = APIClient(REMOTE_ADDR=f"203.0.113.{i + 1}")
        response = client.post("/api/v1/auth/token/", {"username": "root", "password": "x"}, format="json")
        assert response.status_code == 401
    _assert_throttled(_admin_login("198.51.100.8", "root"))


def test_login_counters_live_in_the_configured_cache_which_processes_may_share(
    tmp_path, settings, fast_hashing
):
    """Throttles count in CACHE_URL's cache: with a shared one (Redis in production; here a directory),
    another process reads the same counters; a cache of each process would count for itself."""
    import hashlib

    from django.core.cache.backends.filebased import FileBasedCache

    location = str(tmp_path / "cache")
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": location}
    }
    for i in range(3):
        assert _admin_login(f"203.0.113.{i + 1}", "carol").status_code == 200
    APIClient().post("/api/v1/auth/token/", {"username": "carol", "password": "x"}, format="json")
    another_process = FileBasedCache(location, {})
    key = "throttle_login_" + hashlib.sha256(b"carol").hexdigest()
    assert len(another_process.get(key)) == 4  # three admin attempts and one participant login


def test_deploy_check_warns_when_the_throttles_cache_is_each_processs_own(settings):
    from django.core.checks import run_checks

    from api.checks import throttle_cache_shared

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    warnings = throttle_cache_shared(None)
    assert [w.id for w in warnings] == ["registry.W001"] and "CACHE_URL" in warnings[0].msg
    assert "registry.W001" in {m.id for m in run_checks(include_deployment_checks=True)}
    assert "registry.W001" not in {m.id for m in run_checks()}  # a deployment check only
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/1",
        }
    }
    assert throttle_cache_shared(None) == []
