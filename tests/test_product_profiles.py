"""The machine profile of a product's sample at the home node and across the federation: computed when a
product with a data dictionary and a sample is written or a sample file uploaded, published as a
`product_profile` record once the product is public, shown in the product's detail; a sample file's upload
refused with a clear 4xx (encoding, format, size, owner, no dictionary); a peer's profile checked on apply."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from core.exceptions import Forbidden
from federation.apply import apply_page
from federation.models import Entry, QuarantinedEntry
from participants.principal import ParticipantPrincipal
from products.models import Product, ProductProfile
from products.profiles import product_sample_upload
from tests.factories import make_foreign_product
from tests.test_federation_apply import ORIGIN, bjidx_key, code, item, product  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db
URL = "/api/v1/products/"
EXAMPLES = Path(__file__).resolve().parents[1] / "docs/examples"
EXAMPLE = EXAMPLES / "product-descriptor-1.1.json"
CSV = (EXAMPLES / "product-sample.csv").read_text("utf-8")  # 4 rows: 1 repeated, some off type


@pytest.fixture
def descriptor_11() -> dict:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def _listed(api, descriptor) -> str:
    created = api.post(URL, {"descriptor": descriptor}, format="json")
    assert created.status_code == 201, created.content
    code_ = created.json()["code"]
    assert api.post(f"{URL}{code_}/submit/", {}, format="json").status_code == 200
    assert api.post(f"{URL}{code_}/review/", {"decision": "approve"}, format="json").status_code == 200
    return code_


def _upload(api, code_, body, content_type="text/csv"):
    data = body.encode() if isinstance(body, str) else body
    return api.generic("POST", f"{URL}{code_}/sample/", data, content_type=content_type)


def _error(response, status=400) -> tuple[str, str]:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["message"] and error["message_en"]
    first = error["errors"][0] if error["errors"] else {"field": "", "code": error["code"]}
    return first["field"], first["code"]


def _entries(code_: str) -> list[str]:
    return list(Entry.objects.filter(gid=code_).order_by("seq").values_list("record_type", flat=True))


def test_a_listed_product_with_a_dictionary_and_inline_records_is_profiled_and_published(
    alice_api, anon, descriptor_11
):
    code_ = _listed(alice_api, descriptor_11)
    profile = anon.get(f"{URL}{code_}/").json()["profile"]
    assert (profile["computed"], profile["kind"], profile["source"]) == (True, "machine_profile", "inline")
    assert (profile["rows"], profile["duplicate_rows"]) == (3, 0)
    by_name = {f["name"]: f for f in profile["fields"]}
    assert by_name["energy_kwh"]["distinct"] == 3 and by_name["location"]["non_null"] == 0
    assert by_name["pile_id"]["distinct_ratio"] == 1.0
    assert profile["freshness"]["newest"] == "2024-03-01T08:00:00+08:00"
    assert profile["freshness"]["fresh"] is False  # a daily product whose sample is from 2024
    # the product's entry, then its profile's: a peer applies the product first
    assert _entries(code_) == ["product", "product_profile"]
    assert anon.get(f"{URL}{code_}/sample/").json()["profile"] == profile


def test_a_drafts_profile_stays_at_home_until_the_product_is_public(alice_api, descriptor_11):
    created = alice_api.post(URL, {"descriptor": descriptor_11}, format="json").json()
    assert created["profile"]["rows"] == 3
    assert not Entry.objects.filter(record_type="product_profile").exists()
    assert ProductProfile.objects.get(product_code=created["code"]).public is False


def test_a_10_descriptor_has_no_profile_and_refuses_a_sample_file(alice_api, example_descriptor):
    code_ = _listed(alice_api, example_descriptor)
    assert alice_api.get(f"{URL}{code_}/").json()["profile"] is None
    assert _error(_upload(alice_api, code_, CSV), 409) == ("", "no_data_dictionary")
    assert _entries(code_) == ["product"]


def test_an_uploaded_csv_replaces_the_inline_records_for_the_profile(alice_api, anon, descriptor_11):
    code_ = _listed(alice_api, descriptor_11)
    listed = Entry.objects.get(record_type="product_profile", gid=code_).version
    uploaded = _upload(alice_api, code_, CSV)
    assert uploaded.status_code == 200, uploaded.content
    body = uploaded.json()
    assert body["sample_file"]["format"] == "csv" and body["sample_file"]["rows"] == 4
    assert body["sample_file"]["uploaded_by_kind"] == "operator"
    profile = body["profile"]
    assert (profile["source"], profile["rows"], profile["duplicate_rows"]) == ("csv", 4, 1)
    by_name = {f["name"]: f for f in profile["fields"]}
    assert (by_name["rated_kw"]["conforming"], by_name["rated_kw"]["conformance_ratio"]) == (3, 0.75)
    assert (by_name["status"]["conforming"], by_name["energy_kwh"]["non_null"]) == (3, 2)
    assert (by_name["location"]["non_null"], by_name["location"]["conforming"]) == (2, 1)
    assert anon.get(f"{URL}{code_}/").json()["profile"] == profile
    assert Entry.objects.get(record_type="product_profile", gid=code_).version == listed + 1


def test_json_lines_are_profiled_as_json_values(alice_api, descriptor_11):
    code_ = _listed(alice_api, descriptor_11)
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in descriptor_11["sample"]["records"] * 2)
    uploaded = _upload(alice_api, code_, lines + "\n\n", "application/x-ndjson")
    assert uploaded.status_code == 200, uploaded.content
    profile = uploaded.json()["profile"]
    assert (profile["source"], profile["rows"], profile["duplicate_rows"]) == ("jsonl", 6, 3)


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("pile_id,station\nSH-1,张江站\n".encode("gb18030"), "text/csv", ("file", "encoding")),
        ("pile_id,station\nSH-1\n", "text/csv", ("file", "format")),
        ("pile_id,pile_id\nSH-1,SH-2\n", "text/csv", ("file", "format")),
        ("pile_id\n", "text/csv", ("file", "empty")),
        ("", "text/csv", ("file", "empty")),
        ('{"pile_id": "SH-1"}\n[1, 2]\n', "application/x-ndjson", ("file", "format")),
        ('{"pile_id": NaN}\n', "application/x-ndjson", ("file", "format")),
        ('{"pile_id": "SH\\u0000"}\n', "application/x-ndjson", ("file", "encoding")),
        ('{"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}', "application/x-ndjson", ("file", "format")),
        ("pile_id\n" + "SH-1\n" * 10_001, "text/csv", ("file", "too_large")),
    ],
)
def test_a_bad_sample_file_is_a_400_naming_the_rule(alice_api, descriptor_11, body, content_type, expected):
    code_ = _listed(alice_api, descriptor_11)
    assert _error(_upload(alice_api, code_, body, content_type)) == expected


def test_size_limits_and_media_types(alice_api, descriptor_11):
    code_ = _listed(alice_api, descriptor_11)
    just_over = "pile_id\n" + "x" * (5 * 1024 * 1024 - 8) + "\n"  # the file limit, plus one byte
    assert _error(_upload(alice_api, code_, just_over)) == ("file", "too_large")
    assert _error(_upload(alice_api, code_, just_over + "x"), 413) == ("", "payload_too_large")
    json_body = _upload(alice_api, code_, '{"a": 1}', "application/json")
    assert json_body.status_code == 415, json_body.content


def test_only_the_products_exchange_or_its_provider_uploads(alice_api, bob_api, anon, descriptor_11):
    code_ = _listed(alice_api, descriptor_11)
    assert _error(_upload(bob_api, code_, CSV), 403) == ("", "not_owner")
    assert _upload(anon, code_, CSV).status_code == 401
    product_ = Product.objects.get(code=code_)
    provider = descriptor_11["provider"]["uscc"]
    other = "91310115MA1K4XYZ9B" if provider != "91310115MA1K4XYZ9B" else "91110000T639XMPU1M"
    with pytest.raises(Forbidden):
        product_sample_upload(actor=_merchant(other), product=product_, data=CSV.encode(), file_format="csv")
    sample = product_sample_upload(
        actor=_merchant(provider), product=product_, data=CSV.encode(), file_format="csv"
    )
    assert (sample.rows, sample.uploaded_by_kind) == (4, "provider")


def _merchant(uscc: str) -> ParticipantPrincipal:
    return ParticipantPrincipal(
        participant_id=uscc,
        home="SHDEX",
        username="merchant",
        roles=("data_merchant",),
        services=(),
        legal_name="测试数据科技有限公司",
        status="verified",
    )


@pytest.mark.parametrize("removed", ["sample", "fields"])
def test_removing_the_sample_or_the_dictionary_withdraws_the_profile(alice_api, anon, descriptor_11, removed):
    code_ = _listed(alice_api, descriptor_11)
    listed = Entry.objects.get(record_type="product_profile", gid=code_).version
    patched = alice_api.patch(f"{URL}{code_}/", {"descriptor": {removed: None}}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["profile"] is None
    entry = json.loads(Entry.objects.get(record_type="product_profile", gid=code_).body)
    assert entry["payload"] == {"product": code_, "profile": None} and entry["version"] == listed + 1


def test_a_replica_cannot_take_a_sample_file(alice_api):
    foreign = make_foreign_product()
    assert _error(_upload(alice_api, foreign.code, CSV), 403) == ("", "not_owner")


# --- a peer's profile ---------------------------------------------------------------------------------------
def _peer_profile(descriptor_11) -> dict:
    from django.utils import timezone

    from standards.quality_profile import profile_compute

    records = descriptor_11["sample"]["records"]
    return profile_compute(records, descriptor_11["fields"], "daily", now=timezone.now())


def test_a_peers_profile_is_applied_and_shown_with_its_product(bjidx_key, anon, descriptor_11):  # noqa: F811
    profile = _peer_profile(descriptor_11)
    page = [
        item(bjidx_key, seq=1, gid=code(1), payload=product(1, descriptor_11)),
        item(
            bjidx_key,
            seq=2,
            gid=code(1),
            record_type="product_profile",
            payload={"product": code(1), "profile": profile},
        ),
    ]
    applied, _ = apply_page(origin=ORIGIN, items=page, source=ORIGIN, after=0)[:2]
    assert applied == 2, QuarantinedEntry.objects.values_list("reason", flat=True)
    assert anon.get(f"{URL}{code(1)}/").json()["profile"] == profile
    assert ProductProfile.objects.get(product_code=code(1)).origin == ORIGIN


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda p: p["profile"].update(rows=-1), "profile.rows"),
        (lambda p: p["profile"].update(duplicate_row_rate=0.9), "profile.duplicate_row_rate"),
        (lambda p: p["profile"].update(standard="quality-profile/2.0"), "profile.standard"),
        (lambda p: p.update(product=code(2)), "product"),
        (lambda p: p.update(product=code(1, "SHDEX")), "product"),
        (lambda p: p.update(extra=True), ": fields"),
    ],
)
def test_a_peers_impossible_profile_is_quarantined(bjidx_key, descriptor_11, change, reason):  # noqa: F811
    payload = {"product": code(1), "profile": _peer_profile(descriptor_11)}
    change(payload)
    page = [
        item(bjidx_key, seq=1, gid=code(1), record_type="product_profile", payload=copy.deepcopy(payload))
    ]
    apply_page(origin=ORIGIN, items=page, source=ORIGIN, after=0)
    assert reason in QuarantinedEntry.objects.get(origin=ORIGIN, seq=1).reason
    assert not ProductProfile.objects.exists()


def test_garbled_sample_files_are_refused_in_the_error_shape_and_change_nothing(alice_api, descriptor_11):
    """Random damage to a valid CSV and JSON lines file (bytes flipped, cut, repeated, lines swapped): each
    answer is a success or a 4xx in the error shape, never a 500; a refused file changes nothing."""
    import random

    from products.models import ProductSample

    code_ = _listed(alice_api, descriptor_11)
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in descriptor_11["sample"]["records"])
    rng = random.Random(20261205)
    for good, content_type in ((CSV.encode(), "text/csv"), (lines.encode(), "application/x-ndjson")):
        for _ in range(40):
            data = bytearray(good)
            for _ in range(rng.randint(1, 4)):
                at = rng.randrange(len(data))
                damage = rng.random()
                if damage < 0.4:
                    data[at] = rng.choice(b'\x00\xff\xc3",{}[]\n\r:\\')
                elif damage < 0.7:
                    del data[at : at + rng.randint(1, 20)]
                else:
                    data[at:at] = data[: rng.randint(1, 40)]
            before = (ProductSample.objects.count(), Entry.objects.count())
            response = _upload(alice_api, code_, bytes(data), content_type)
            assert response.status_code < 500, (bytes(data), response.content)
            if response.status_code >= 400:
                _error(response, response.status_code)
                assert (ProductSample.objects.count(), Entry.objects.count()) == before
