"""Applying a peer's feed page (federation.apply.apply_page): data from a peer is untrusted input.

Entries are built here as an origin builds them (RFC 8785 canonical JSON, signed with BJIDX's Ed25519 key,
generated for the test): valid ones apply, forged, tampered, schema-breaking, unknown-type, wrong-origin and
impersonating ones are quarantined with their reason, and a valid entry after the bad ones still applies.
"""

import base64
import copy
import datetime
import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.apply import apply_page
from federation.envelope import EnvelopeError, canonical
from federation.http import PeerError
from federation.models import Entry, QuarantinedEntry, SyncState
from federation.peers import peer_add
from products.models import Product, Recognition
from products.sample_data import descriptors
from standards.product_code import product_code_build
from tests.conftest import EXAMPLE_DESCRIPTOR

pytestmark = pytest.mark.django_db
ORIGIN = "BJIDX"
ROOTDIR = Path(__file__).resolve().parents[1]
DEMANDER = "91110000R8A676TY72"
SELLER = "91110000T639XMPU1M"


def _public_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


@pytest.fixture
def bjidx_key():
    key = Ed25519PrivateKey.generate()
    peer_add(code=ORIGIN, base_url="http://127.0.0.1:9", public_key=_public_b64(key))
    return key


def item(key, *, seq, gid, payload, record_type="product", version=1, origin=ORIGIN) -> dict:
    """A feed item as it arrives: the envelope parsed from the canonical body, and its signature."""
    body = canonical(
        {
            "origin": origin,
            "seq": seq,
            "type": record_type,
            "gid": gid,
            "version": version,
            "payload": payload,
        }
    )
    return {"entry": json.loads(body), "signature": base64.b64encode(key.sign(body.encode())).decode()}


def code(serial: int, origin: str = ORIGIN) -> str:
    return product_code_build(origin=origin, year=2026, serial=serial)


def product(serial: int, descriptor: dict, *, origin: str = ORIGIN) -> dict:
    return {
        "code": code(serial, origin),
        "status": "listed",
        "descriptor": descriptor,
        "listed_at": "2026-05-01T08:00:00+00:00",
        "delisted_at": None,
        "status_reasons": [],
    }


def home_recognition(serial: int) -> dict:
    """The payload of the home exchange's recognition of its product `serial`."""
    return {
        "product": code(serial),
        "exchange": ORIGIN,
        "status": "recognised",
        "reasons": [],
        "product_version": 1,
        "decided_by": "home",
        "policy": "1.0",
    }


def samples(n: int, seed: int = 7) -> list[dict]:
    return list(descriptors(n, seed=seed))


def quarantined() -> dict[int, str]:
    return dict(QuarantinedEntry.objects.filter(origin=ORIGIN).values_list("seq", "reason"))


def cursor() -> int:
    return SyncState.objects.get(origin=ORIGIN).cursor


def test_bad_entries_are_quarantined_with_reasons_and_the_rest_applies(bjidx_key):
    d = samples(4)
    forger = Ed25519PrivateKey.generate()
    tampered = item(bjidx_key, seq=3, gid=code(3), payload=product(3, d[1]))
    tampered["entry"]["payload"]["descriptor"]["summary"] = "被中途篡改的产品简介，签名不再匹配。"
    broken = copy.deepcopy(d[2])
    del broken["provider"]
    recognition = home_recognition(1)
    items = [
        item(bjidx_key, seq=1, gid=code(1), payload=product(1, copy.deepcopy(EXAMPLE_DESCRIPTOR))),
        item(forger, seq=2, gid=code(2), payload=product(2, d[0])),  # signed by someone else
        tampered,
        item(bjidx_key, seq=4, gid=code(4), payload=product(4, broken)),  # signed, but breaks the schema
        item(bjidx_key, seq=5, gid="W-1", payload={"anything": 1}, record_type="widget"),
        item(
            bjidx_key, seq=6, gid=code(6), payload=product(6, d[3]), origin="GYBDX"
        ),  # not this feed's origin
        item(
            bjidx_key, seq=7, gid=code(7, "SHDEX"), payload=product(7, d[3], origin="SHDEX")
        ),  # impersonation
        item(bjidx_key, seq=8, gid=code(8), payload=product(8, d[3])),
        item(bjidx_key, seq=9, gid=f"{code(1)}@{ORIGIN}", payload=recognition, record_type="recognition"),
    ]

    applied, last = apply_page(origin=ORIGIN, items=items, source=ORIGIN, after=0)

    assert (applied, last) == (3, 9)
    assert cursor() == 9
    assert set(Product.objects.filter(exchange_id=ORIGIN).values_list("code", flat=True)) == {
        code(1),
        code(8),
    }
    assert not Product.objects.filter(
        code__in=[code(2), code(3), code(4), code(6), code(7, "SHDEX")]
    ).exists()
    reasons = quarantined()
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7]
    assert "signature does not verify" in reasons[2]
    assert "signature does not verify" in reasons[3]
    assert "invalid payload" in reasons[4] and "descriptor" in reasons[4]
    assert "unknown record type 'widget'" in reasons[5]
    assert "'GYBDX'" in reasons[6]
    assert "invalid payload" in reasons[7] and "code" in reasons[7]
    raw = json.loads(QuarantinedEntry.objects.get(origin=ORIGIN, seq=3).raw)
    assert raw["entry"]["payload"]["descriptor"]["summary"].startswith("被中途篡改")  # kept for inspection
    # Only applied entries are kept for relaying, exactly as the origin signed them.
    stored = {(e.record_type, e.gid): e.seq for e in Entry.objects.filter(origin=ORIGIN)}
    assert stored == {
        ("product", code(1)): 1,
        ("product", code(8)): 8,
        ("recognition", f"{code(1)}@{ORIGIN}"): 9,
    }
    assert Entry.objects.get(origin=ORIGIN, seq=1).body == canonical(items[0]["entry"])
    held = Product.objects.get(code=code(1))
    assert (held.version, held.status, held.descriptor) == (1, "listed", EXAMPLE_DESCRIPTOR)
    assert Recognition.objects.get(product_code=code(1), exchange_id=ORIGIN).decided_by == "home"
    # This node judged both applied products itself.
    mine = Recognition.objects.filter(exchange_id="SHDEX", product_code__in=[code(1), code(8)])
    assert {r.decided_by for r in mine} == {"auto"} and mine.count() == 2


def test_applying_again_or_out_of_order_changes_nothing(bjidx_key):
    d = samples(2, seed=11)
    v1 = item(bjidx_key, seq=1, gid=code(1), payload=product(1, d[0]))
    bad = item(bjidx_key, seq=2, gid="W-1", payload={}, record_type="widget")
    assert apply_page(origin=ORIGIN, items=[v1, bad], source=ORIGIN, after=0) == (1, 2)
    # The same page again (a retried pull, or from another peer): nothing new, nothing twice.
    assert apply_page(origin=ORIGIN, items=[v1, bad], source=ORIGIN, after=0)[0] == 0
    assert Product.objects.filter(code=code(1)).count() == 1
    assert Entry.objects.filter(origin=ORIGIN).count() == 1
    assert QuarantinedEntry.objects.filter(origin=ORIGIN).count() == 1

    changed = {**d[0], "summary": "第二版的产品简介，用于检验版本只增不减。"}
    v2 = item(bjidx_key, seq=3, gid=code(1), version=2, payload=product(1, changed))
    assert apply_page(origin=ORIGIN, items=[v2], source=ORIGIN, after=2) == (1, 3)
    # An older version arriving later (a relay that lags) does not go backwards.
    stale = item(bjidx_key, seq=4, gid=code(1), version=1, payload=product(1, d[0]))
    assert apply_page(origin=ORIGIN, items=[stale], source="GYBDX", after=3) == (0, 4)
    held = Product.objects.get(code=code(1))
    assert held.version == 2 and held.descriptor["summary"] == changed["summary"]
    assert Entry.objects.get(origin=ORIGIN, record_type="product", gid=code(1)).seq == 3
    # Entries at or below the cursor a peer sends anyway are ignored.
    assert apply_page(origin=ORIGIN, items=[v1], source=ORIGIN, after=4) == (0, 4)


def test_a_forged_sequence_number_does_not_move_the_cursor(bjidx_key):
    forged = item(Ed25519PrivateKey.generate(), seq=10_000, gid=code(1), payload=product(1, samples(1)[0]))
    assert apply_page(origin=ORIGIN, items=[forged], source="GYBDX", after=0) == (0, 0)
    assert cursor() == 0  # otherwise the origin's real entries 1..9999 would never be pulled
    assert quarantined() == {10_000: quarantined()[10_000]}
    real = item(bjidx_key, seq=1, gid=code(1), payload=product(1, samples(1)[0]))
    assert apply_page(origin=ORIGIN, items=[real], source=ORIGIN, after=cursor()) == (1, 1)


def test_replicas_of_one_provider_may_share_a_name_the_home_node_decides(bjidx_key):
    """The per-provider unique name is the home node's rule: a replica applies what its origin published
    (a lagging replica can see two renames in an order in which names briefly coincide)."""
    d = samples(2, seed=13)
    items = [
        item(bjidx_key, seq=1, gid=code(1), payload=product(1, d[0])),
        item(
            bjidx_key, seq=2, gid=code(2), payload=product(2, copy.deepcopy(d[0]))
        ),  # same provider and name
    ]
    assert apply_page(origin=ORIGIN, items=items, source=ORIGIN, after=0) == (2, 2)
    assert Product.objects.filter(exchange_id=ORIGIN).count() == 2


def _database_refuses():
    from django.db import IntegrityError

    return IntegrityError("simulated constraint violation")


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (_database_refuses, "invalid payload: simulated constraint violation"),
        # A check that lets a value of an unexpected type reach code that raises (`[] in frozenset()`).
        (lambda: TypeError("unhashable type: 'list'"), "invalid payload: TypeError: unhashable type: 'list'"),
    ],
    ids=["database", "unexpected-type"],
)
def test_an_entry_that_raises_is_quarantined_not_blocking(bjidx_key, monkeypatch, failure, reason):
    """A batch that raises (the database refuses it, or a check let a hostile value through) is retried entry
    by entry: the entry that raises is quarantined with the exception, the others of the page still apply,
    and the cursor moves on."""
    from federation import replica

    real = replica.get("product")
    apply_batch = real.apply_batch

    def refusing(origin, batch, *, repair=False, prepared=None):
        if any(gid == code(2) for gid, _, _ in batch):
            raise failure()
        return apply_batch(origin, batch, repair=repair, prepared=prepared)

    monkeypatch.setattr(real, "apply_batch", refusing)
    d = samples(3, seed=13)
    items = [item(bjidx_key, seq=n, gid=code(n), payload=product(n, d[n - 1])) for n in (1, 2, 3)]
    applied, last = apply_page(origin=ORIGIN, items=items, source=ORIGIN, after=0)
    assert (applied, last) == (2, 3) and cursor() == 3
    assert set(Product.objects.filter(exchange_id=ORIGIN).values_list("code", flat=True)) == {
        code(1),
        code(3),
    }
    reasons = list(QuarantinedEntry.objects.filter(origin=ORIGIN).values_list("gid", "reason"))
    assert reasons == [(code(2), reason)]


def test_an_origin_without_a_key_on_file_is_refused_before_anything_is_read(bjidx_key):
    with pytest.raises(PeerError) as error:
        apply_page(origin="GYBDX", items=[{"entry": {}, "signature": ""}], source="GYBDX", after=0)
    assert not error.value.transient
    assert not QuarantinedEntry.objects.exists()


@pytest.mark.parametrize("threads", [2, 0])
def test_signatures_checked_in_parallel_chunks_fail_exactly_the_forged_entries(
    bjidx_key, settings, monkeypatch, threads
):
    """A page spans several verification chunks (VERIFY_CHUNK entries each, checked on the thread pool or
    inline): forged entries at the edges of chunks, and one malformed, are the only ones refused."""
    from federation import envelope

    monkeypatch.setitem(settings.FEDERATION, "VERIFY_THREADS", threads)
    chunk = envelope.VERIFY_CHUNK
    size = 2 * chunk + 22
    page = [
        item(bjidx_key, seq=i + 1, gid=f"{code(1)}@{ORIGIN}", payload={"n": i}, record_type="recognition")
        for i in range(size)
    ]
    forged = {0, chunk - 1, chunk, size - 1}
    for i in forged:
        page[i]["entry"]["payload"]["n"] = -1  # tampered after signing
    page[5] = {"entry": page[5]["entry"]}  # malformed: no signature
    results = envelope.envelopes_check(page, origin=ORIGIN, public_key=_public_b64(bjidx_key))
    assert len(results) == size
    refused = {i for i, r in enumerate(results) if isinstance(r, envelope.EnvelopeError)}
    assert refused == forged | {5}
    assert all("does not verify" in str(results[i]) for i in forged)
    assert "exactly entry and signature" in str(results[5])
    assert results[7] == (page[7]["entry"], canonical(page[7]["entry"]))
    assert (envelope._verifier() is None) == (threads == 0)


def test_a_page_checked_ahead_is_used_only_with_the_key_on_file(bjidx_key):
    """The fetch thread (or the helper process) checks the next page ahead (prechecked); apply_page trusts
    that result only if it was made with the origin's key still on file, otherwise it checks the page
    again."""
    from federation.envelope import EnvelopeError
    from federation.prepare import page_check

    key_now = _public_b64(bjidx_key)
    d = samples(2)
    page = [item(bjidx_key, seq=i + 1, gid=code(i + 1), payload=product(i + 1, d[i])) for i in range(2)]
    # Made with an old key that has since been replaced: every result is ignored, the page checked again.
    stale = ("b2xkIGtleQ==", [EnvelopeError("refused by the old key")] * 2)
    assert apply_page(origin=ORIGIN, items=page, source=ORIGIN, after=0, prechecked=stale) == (2, 2)
    assert quarantined() == {}
    # Made with the key on file: used as it is (here the second entry was found forged ahead).
    more = [item(bjidx_key, seq=i + 3, gid=code(i + 3), payload=product(i + 3, d[i])) for i in range(2)]
    results = page_check(more, origin=ORIGIN, public_key=key_now)
    results[1] = EnvelopeError("signature does not verify (found ahead)")
    assert apply_page(origin=ORIGIN, items=more, source=ORIGIN, after=2, prechecked=(key_now, results)) == (
        1,
        3,
    )
    assert quarantined() == {4: "signature does not verify (found ahead)"}
    assert Product.objects.filter(exchange_id=ORIGIN).count() == 3
    # The entry kept for relaying is the canonical body the origin signed.
    kept = Entry.objects.get(origin=ORIGIN, seq=3)
    assert kept.body == canonical(more[0]["entry"]) and kept.signature == more[0]["signature"]


def test_a_payload_value_of_the_wrong_shape_is_quarantined_not_raised_on(bjidx_key):
    """`[] in frozenset()` raises TypeError: a list where a code belongs is refused like any bad value."""
    d = samples(2, seed=5)
    odd = product(1, d[0])
    odd["status"] = ["listed"]
    items = [
        item(bjidx_key, seq=1, gid=code(1), payload=odd),
        item(bjidx_key, seq=2, gid=code(2), payload=product(2, d[1])),
    ]
    assert apply_page(origin=ORIGIN, items=items, source=ORIGIN, after=0) == (1, 2)
    assert "status: invalid_choice" in quarantined()[1]
    assert Product.objects.filter(code=code(2)).exists() and not Product.objects.filter(code=code(1)).exists()


def _registered_principal(uscc: str, name: str, role: str):
    """A verified participant registered at this node, as its token presents it to the services."""
    from participants.principal import ParticipantPrincipal
    from tests.factories import register_provider

    register_provider(uscc, name, roles=(role,))
    return ParticipantPrincipal(
        participant_id=uscc,
        home=ORIGIN,
        username=role,
        roles=(role,),
        services=(),
        legal_name=name,
        status="verified",
    )


def _origin_entries(settings) -> list[dict]:
    """Entries of every public record type as BJIDX's node writes them: its services run with this node
    posing as BJIDX in a savepoint that is rolled back, and the log entries it wrote are kept."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from demands.responses import response_create, response_decide
    from demands.services import demand_post
    from federation.models import PrivateEntry
    from participants.evaluations import evaluation_issue
    from tests.factories import make_product, register_provider

    evaluation = json.loads((ROOTDIR / "docs" / "examples" / "evaluation.json").read_text("utf-8"))
    subject = evaluation["subject"]
    original = settings.NODE_CODE
    with transaction.atomic():
        settings.NODE_CODE = ORIGIN
        try:
            operator = User.objects.create(
                username="bj-operator", role=User.Role.OPERATOR, exchange_id=ORIGIN
            )
            register_provider(EXAMPLE_DESCRIPTOR["provider"]["uscc"], EXAMPLE_DESCRIPTOR["provider"]["name"])
            make_product(actor=operator, descriptor=copy.deepcopy(EXAMPLE_DESCRIPTOR), status="listed")
            # a 1.1 product with a data dictionary and a sample: its machine profile (product_profile)
            example_11 = json.loads(
                (ROOTDIR / "docs/examples/product-descriptor-1.1.json").read_text("utf-8")
            )
            register_provider(example_11["provider"]["uscc"], example_11["provider"]["name"])
            example_11["name"] = "上海市新能源汽车充电桩运行明细数据集"  # the 1.0 example's provider and name
            make_product(actor=operator, descriptor=example_11, status="listed")
            register_provider(subject, "上海浦数智能科技有限公司")
            dates = {k: datetime.date.fromisoformat(evaluation[k]) for k in ("valid_from", "valid_until")}
            evaluation_issue(actor=operator, data={**evaluation, **dates, "subject": subject})
            buyer = _registered_principal(DEMANDER, "北京需方数据科技有限公司", "demander")
            demand = json.loads((ROOTDIR / "docs" / "examples" / "demand.json").read_text("utf-8"))
            demand["deadline"] = timezone.now() + datetime.timedelta(days=60)
            posted = demand_post(actor=buyer, data=demand)
            seller = _registered_principal(SELLER, "北京供方数据科技有限公司", "data_merchant")
            answer = json.loads((ROOTDIR / "docs" / "examples" / "demand-response.json").read_text("utf-8"))
            response = response_create(actor=seller, demand=posted, data=answer)
            response_decide(actor=buyer, response=response, decision="shortlisted", reason="价格合适")
            bodies = list(Entry.objects.filter(origin=ORIGIN).order_by("seq").values_list("body", flat=True))
            bodies += (
                PrivateEntry.objects.filter(origin=ORIGIN).order_by("seq").values_list("body", flat=True)
            )
        finally:
            settings.NODE_CODE = original
        transaction.set_rollback(True)
    return [json.loads(body) for body in bodies]


def test_every_field_of_every_record_type_mutated_by_a_signed_peer_is_applied_or_quarantined(
    bjidx_key, settings
):
    """A peer's node holds a valid key and signs whatever it likes: each value of each public record type
    replaced by a hostile one (wrong types, NUL, huge, nested, out of range), a key dropped or added.
    Every entry is applied (if still valid) or quarantined; nothing raises; the valid entry that follows each
    record's mutations applies; the cursor ends at the page's last entry."""
    import random

    from federation import replica
    from tests.test_fuzz import _mutations

    bases = [e for e in _origin_entries(settings) if not replica.get(e["type"]).private]
    types = {e["type"] for e in bases}
    assert {
        "product",
        "recognition",
        "participant",
        "participant_recognition",
        "evaluation",
        "demand",
        "product_profile",
    } <= types
    rng = random.Random(20261128)
    seq, outcomes = 0, {"applied": 0, "quarantined": 0}
    for base in bases:
        version = base["version"]
        mutated = [payload for _, payload in _mutations(base["payload"], rng, 20)]
        for payload in [*mutated, base["payload"]]:  # each on its own page: a page keeps a record's newest
            seq, version = seq + 1, version + 1
            envelope = {**base, "seq": seq, "version": version, "payload": payload}
            apply_page(origin=ORIGIN, items=[_signed_or_garbled(bjidx_key, envelope)], source=ORIGIN, after=0)
            held = Entry.objects.filter(origin=ORIGIN, record_type=base["type"], gid=base["gid"])
            if held.filter(seq=seq).exists():
                outcomes["applied"] += 1
            else:
                assert QuarantinedEntry.objects.filter(origin=ORIGIN, seq=seq).exists(), envelope
                outcomes["quarantined"] += 1
        assert held.get().seq == seq  # the valid entry after the hostile ones applied
    assert cursor() == seq
    assert outcomes["quarantined"] > outcomes["applied"] > len(bases)  # most mutations break a rule
    # Each refusal names the rule broken: none is an exception the apply's fallback caught (a check with a
    # hole) or the database refusing a value (SQLite and PostgreSQL nodes would then disagree).
    reasons = list(QuarantinedEntry.objects.filter(origin=ORIGIN).values_list("reason", flat=True))
    assert not [r for r in reasons if re.search(r"invalid payload: \w+Error: |PostgreSQL|0x00", r)]
    assert Product.objects.get(code=bases[0]["gid"]).descriptor == EXAMPLE_DESCRIPTOR


def _signed_or_garbled(key, envelope: dict) -> dict:
    """The envelope signed by `key`; one that cannot be written as UTF-8 (a lone surrogate) cannot be signed
    by any origin, and arrives with a signature over nothing."""
    try:
        body = canonical(envelope).encode()
    except (UnicodeEncodeError, ValueError, TypeError):
        return {"entry": envelope, "signature": base64.b64encode(b"\0" * 64).decode()}
    return {"entry": json.loads(body), "signature": base64.b64encode(key.sign(body)).decode()}


def test_an_entry_holding_a_nul_is_refused_alike_on_every_database(bjidx_key):
    """PostgreSQL stores no NUL in text or jsonb and SQLite does: the envelope check refuses it on both, so
    nodes on different databases never disagree about an entry. A backslash followed by "u0000" is text."""
    d = samples(2, seed=23)
    d[0]["summary"] += "\x00"
    d[1]["summary"] += "\\u0000"
    items = [item(bjidx_key, seq=n, gid=code(n), payload=product(n, d[n - 1])) for n in (1, 2)]
    assert apply_page(origin=ORIGIN, items=items, source=ORIGIN, after=0) == (1, 2)
    assert quarantined() == {1: "entry contains a NUL character"}
    assert Product.objects.get(code=code(2)).descriptor["summary"].endswith("\\u0000")


def test_every_field_of_the_private_record_types_mutated_by_a_signed_peer_is_refused_by_a_rule(
    bjidx_key, settings
):
    """The private types (a response to a demand and its decision) arrive by a fetch, not in a feed, and are
    held to the same standard: each mutated entry is applied or refused with the rule it breaks (an
    EnvelopeError naming it), never raises anything else; the valid entry after them applies."""
    import random

    from federation import replica
    from federation.models import PrivateEntry, PrivateFetch
    from federation.private import _apply_full
    from tests.test_fuzz import _mutations

    private = [e for e in _origin_entries(settings) if replica.get(e["type"]).private]
    assert [e["type"] for e in private] == ["demand_response", "response_decision"]
    rng = random.Random(20261129)
    refused, applied = [], 0
    for base in private:
        fetch = PrivateFetch(
            origin=ORIGIN, record_type=base["type"], gid=base["gid"], version=1, audience=[ORIGIN, "SHDEX"]
        )
        version = base["version"]
        mutated = [payload for _, payload in _mutations(base["payload"], rng, 25)]
        for n, payload in enumerate([*mutated, base["payload"]]):
            version += 1
            envelope = {**base, "version": version, "payload": payload}
            try:
                applied += _apply_full(fetch, _signed_or_garbled(bjidx_key, envelope))
            except EnvelopeError as exc:
                assert n < len(mutated), exc  # the valid entry is never refused
                refused.append(str(exc))
        held = PrivateEntry.objects.get(origin=ORIGIN, record_type=base["type"], gid=base["gid"])
        assert held.version == version  # the valid entry after the hostile ones applied
    assert len(refused) > applied > 2
    assert not [r for r in refused if re.search(r"\w+Error: |PostgreSQL|0x00", r)]
