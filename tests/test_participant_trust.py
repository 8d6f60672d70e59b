"""Trust no peer's claim blindly (the security issue's findings 1–4): a peer's registration cannot take over a
company registered and verified here, a claimed registration time is bounded by when this node first saw it,
private fields and writes follow the registration (USCC and home), a squat neither blocks nor locks out the
company, and sessions end when the password changes or the registration is suspended."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from federation.peers import peer_remove
from participants.models import Participant, RegistrationConflict
from participants.selectors import ranked_at
from products.models import Product
from tests.test_participants import (
    EXAMPLE,
    URL,
    _apply_replica,
    _bearer,
    _body,
    _foreign_token,
    _login,
    _peer_key,
    _uscc,
    registered,  # noqa: F401 - fixture
    verified,  # noqa: F401 - fixture
)

pytestmark = pytest.mark.django_db
LONG_AGO = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def _rows(pid: str) -> dict[str, str]:
    return dict(Participant.objects.filter(participant_id=pid).values_list("home_id", "duplicate_of"))


class TestTakeover:
    def test_a_backdated_registration_from_a_peer_does_not_take_over(
        self,
        alice_api,
        verified,  # noqa: F811
        anon,
    ):
        """Finding 1: a rogue peer publishes its own verified registration of a company registered and
        verified here, claiming 2000-01-01. Its claim is ranked from when this node first saw it, the
        verified registration here is kept, the operators see the conflict, and the rogue node's token for
        the company is refused — no private field read, no product changed."""
        pid = verified["id"]
        a_day_ago = timezone.now() - datetime.timedelta(days=1)  # registered here yesterday
        Participant.objects.filter(participant_id=pid).update(
            registered_at=a_day_ago, first_seen_at=a_day_ago
        )
        rogue = _peer_key("GZDEX")
        _apply_replica(pid, home="GZDEX", registered_at=LONG_AGO)
        assert _rows(pid) == {"SHDEX": "", "GZDEX": "SHDEX"}
        conflict = RegistrationConflict.objects.get(participant_id=pid)
        assert (conflict.reason, conflict.standing_home, conflict.challenger_home) == (
            "backdated",
            "SHDEX",
            "GZDEX",
        )
        # The rogue node's token for the company: refused everywhere it is a duplicate, here included.
        token = _foreign_token(rogue, iss="GZDEX", pid=pid)
        assert _bearer(anon, token).get(f"{URL}{pid}/").status_code == 401
        # The company's own login still works and reads its private fields.
        anon.credentials()
        pair = _login(anon).json()
        me = _bearer(anon, pair["access"]).get(f"{URL}{pid}/").json()
        assert me["home_exchange"] == "SHDEX" and me["private"]["email"] == EXAMPLE["email"]

    def test_a_claimed_time_counts_at_most_the_skew_before_this_node_saw_it(self, settings):
        settings.PARTICIPANT_CLOCK_SKEW = 600
        seen = timezone.now()
        claim = Participant(registered_at=LONG_AGO, first_seen_at=seen)
        assert ranked_at(claim) == seen - datetime.timedelta(seconds=600)
        plausible = Participant(registered_at=seen - datetime.timedelta(seconds=30), first_seen_at=seen)
        assert ranked_at(plausible) == plausible.registered_at

    def test_a_verified_registration_is_kept_even_against_a_plausible_earlier_claim(
        self,
        alice_api,
        verified,  # noqa: F811
    ):
        pid = verified["id"]
        _peer_key("GZDEX")
        _apply_replica(pid, home="GZDEX", registered_at=timezone.now() - datetime.timedelta(seconds=60))
        assert _rows(pid) == {"SHDEX": "", "GZDEX": "SHDEX"}
        assert RegistrationConflict.objects.get(participant_id=pid).reason == "verified_displacement"

    def test_removing_a_peer_settles_again_what_its_registrations_decided(
        self,
        alice_api,
        registered,  # noqa: F811
    ):
        """A pending registration here loses to a peer's verified one (a pending squat never blocks a verified
        registration); once that peer is removed from the directory its registrations no longer count."""
        pid = registered["id"]
        _peer_key("GZDEX")
        _apply_replica(pid, home="GZDEX")
        assert _rows(pid) == {"SHDEX": "GZDEX", "GZDEX": ""}
        assert peer_remove(code="GZDEX")
        assert _rows(pid) == {"SHDEX": "", "GZDEX": "SHDEX"}
        assert not RegistrationConflict.objects.filter(participant_id=pid, decision="open").exists()  # moot

    def test_the_conflict_queue_is_for_this_exchanges_operators(
        self,
        bob_api,
        anon,
        alice_api,
        verified,  # noqa: F811
    ):
        _peer_key("GZDEX")
        _apply_replica(verified["id"], home="GZDEX", registered_at=LONG_AGO)
        assert anon.get(f"{URL}conflicts/").status_code == 401
        assert bob_api.get(f"{URL}conflicts/").status_code == 403  # an operator of BJIDX, at SHDEX's node
        assert alice_api.get(f"{URL}conflicts/").json()["count"] == 1


class TestPrivateFieldsFollowTheRegistration:
    def test_another_registration_of_the_same_company_reads_no_private_field_here(
        self,
        alice_api,
        registered,  # noqa: F811
        anon,
    ):
        """Finding 2: SHDEX revoked its registration, BJIDX verified a new one of the same USCC; the BJIDX
        registration's token reads the BJIDX registration, never the private fields of SHDEX's."""
        pid = registered["id"]
        alice_api.post(f"{URL}{pid}/verification/", {"status": "revoked", "reason": "x"}, format="json")
        key = _peer_key("BJIDX")
        _apply_replica(pid, home="BJIDX")
        client = _bearer(anon, _foreign_token(key, pid=pid))
        theirs = client.get(f"{URL}{pid}/", {"home": "SHDEX"})
        assert theirs.status_code == 200 and theirs.json().get("private") is None
        assert client.patch(f"{URL}{pid}/", {"description": "x"}, format="json").status_code == 403

    def test_a_product_is_written_only_by_the_registration_that_stands(
        self,
        alice,
        anon,
        example_descriptor,
    ):
        """Product writes follow the provider's registration that stands here (USCC and home exchange)."""
        from products import services

        pid = example_descriptor["provider"]["uscc"]  # the provider is registered here (conftest)
        product = services.product_create(actor=alice, descriptor=example_descriptor)
        key = _peer_key("GZDEX")
        _apply_replica(pid, home="GZDEX", registered_at=LONG_AGO)
        token = _foreign_token(key, iss="GZDEX", pid=pid)
        response = _bearer(anon, token).patch(
            f"/api/v1/products/{product.code}/", {"descriptor": {"summary": "改"}}, format="json"
        )
        assert response.status_code == 401
        assert Product.objects.get(pk=product.pk).version == 1


class TestSquatting:
    def test_a_pending_registration_elsewhere_does_not_block_registering_here(
        self,
        alice_api,
    ):
        """Finding 3: a squat (pending, never verified) at another exchange does not block the company's
        registration here; once verified here, this one stands."""
        pid = _uscc("310000", 301)
        _peer_key("GZDEX")
        _apply_replica(
            pid, home="GZDEX", status="pending", registered_at=timezone.now() - datetime.timedelta(days=1)
        )
        body = _body(uscc=pid)
        body.pop("account")
        created = alice_api.post(URL, body, format="json")
        assert created.status_code == 201, created.content
        alice_api.post(f"{URL}{pid}/verification/", {"status": "verified"}, format="json")
        assert _rows(pid) == {"SHDEX": "", "GZDEX": "SHDEX"}

    def test_a_verified_registration_elsewhere_still_blocks(self, alice_api):
        pid = _uscc("310000", 302)
        _peer_key("GZDEX")
        _apply_replica(pid, home="GZDEX", status="verified")
        body = _body(uscc=pid)
        body.pop("account")
        response = alice_api.post(URL, body, format="json")
        assert response.status_code == 409 and response.json()["error"]["home_exchange"] == "GZDEX"

    def test_anonymous_registration_is_rate_limited_per_address_and_per_uscc(self, anon, monkeypatch):
        from api.throttling import RegisterThrottle, RegisterUsccThrottle

        for throttle in (RegisterThrottle, RegisterUsccThrottle):
            rates = {**throttle.THROTTLE_RATES, "register": "3/hour", "register_uscc": "2/day"}
            monkeypatch.setattr(throttle, "THROTTLE_RATES", rates)
        cache.clear()
        same = _uscc("310000", 303)
        statuses = []
        for n in range(3):  # the same USCC again and again (a username each time), from many addresses
            body = _body(uscc=same, account={"username": f"squat{n}", "password": "Qz8-squat-harbor"})
            statuses.append(anon.post(URL, body, format="json", REMOTE_ADDR=f"192.0.2.{n + 1}").status_code)
        assert statuses == [201, 409, 429]
        cache.clear()
        statuses = []
        for n in range(4):  # other USCCs from one address
            account = {"username": f"many{n}", "password": "Qz8-many-harbor"}
            body = _body(uscc=_uscc("310000", 310 + n), account=account)
            statuses.append(anon.post(URL, body, format="json").status_code)
        assert statuses == [201, 201, 201, 429]


class TestSessions:
    def test_a_password_change_ends_every_session_of_the_user(
        self,
        anon,
        verified,  # noqa: F811
    ):
        """Finding 4: refresh tokens and earlier access tokens stop working at home when the password changes;
        the new password and the tokens the change returns work."""
        pid = verified["id"]
        first = _login(anon).json()
        second = _login(anon).json()
        client = _bearer(anon, first["access"])
        changed = client.post(
            "/api/v1/auth/password/",
            {"current_password": EXAMPLE["account"]["password"], "new_password": "Brand-new-9-harbor"},
            format="json",
        )
        assert changed.status_code == 200, changed.content
        anon.credentials()
        for old in (first, second):
            assert (
                anon.post(
                    "/api/v1/auth/token/refresh/", {"refresh": old["refresh"]}, format="json"
                ).status_code
                == 401
            )
            assert _bearer(anon, old["access"]).get(f"{URL}{pid}/").status_code == 401
            anon.credentials()
        assert _bearer(anon, changed.json()["access"]).get(f"{URL}{pid}/").status_code == 200
        anon.credentials()
        assert _login(anon).status_code == 401
        assert _login(anon, password="Brand-new-9-harbor").status_code == 200

    def test_a_wrong_current_password_or_a_weak_new_one_changes_nothing(
        self,
        anon,
        verified,  # noqa: F811
    ):
        pair = _login(anon).json()
        client = _bearer(anon, pair["access"])
        wrong = client.post(
            "/api/v1/auth/password/",
            {"current_password": "nope", "new_password": "Brand-new-9-harbor"},
            format="json",
        )
        assert wrong.status_code == 401
        weak = client.post(
            "/api/v1/auth/password/",
            {"current_password": EXAMPLE["account"]["password"], "new_password": "123"},
            format="json",
        )
        assert weak.status_code == 400 and weak.json()["error"]["errors"][0]["field"] == "new_password"
        anon.credentials()
        assert (
            anon.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json").status_code
            == 200
        )

    def test_a_suspension_revokes_the_refresh_tokens(
        self,
        alice_api,
        anon,
        verified,  # noqa: F811
    ):
        pair = _login(anon).json()
        pid = verified["id"]
        alice_api.post(f"{URL}{pid}/verification/", {"status": "suspended", "reason": "核查"}, format="json")
        alice_api.post(f"{URL}{pid}/verification/", {"status": "verified"}, format="json")
        # Reinstated: the refresh token from before the suspension is not good again.
        assert (
            anon.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json").status_code
            == 401
        )
        assert _bearer(anon, pair["access"]).get(f"{URL}{pid}/").status_code == 401
        anon.credentials()
        assert _login(anon).status_code == 200

    def test_refreshing_cannot_outlive_the_session(
        self,
        anon,
        verified,  # noqa: F811
        settings,
    ):
        from accounts.models import RefreshToken

        pair = _login(anon).json()
        renewed = anon.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json").json()
        RefreshToken.objects.filter(used_at__isnull=True).update(
            session_started_at=timezone.now()
            - datetime.timedelta(seconds=settings.PARTICIPANT_SESSION_MAX + 1)
        )
        again = anon.post("/api/v1/auth/token/refresh/", {"refresh": renewed["refresh"]}, format="json")
        assert again.status_code == 401 and "log in again" in again.json()["error"]["message_en"]
