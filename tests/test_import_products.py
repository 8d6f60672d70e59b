"""`manage.py import_products`: the same rules as the API, nothing partial left by a rejected line."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from products.models import Product, ProductRegion, ProductStatus, ProductVersion
from tests.factories import random_descriptor, register_provider

pytestmark = pytest.mark.django_db


def _write(tmp_path, lines):
    path = tmp_path / "products.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(path, *args):
    out, err = StringIO(), StringIO()
    try:
        call_command("import_products", str(path), *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_imports_valid_lines_and_reports_rejected_ones_with_reasons(tmp_path, example_descriptor):
    good = [random_descriptor() for _ in range(5)]
    bad_vocab = random_descriptor(update_frequency="sometimes")
    bad_name = random_descriptor(name="全国第一企业信用数据集")
    lines = [json.dumps(d, ensure_ascii=False) for d in good[:3]]
    lines += [
        "{not json",
        json.dumps(bad_vocab, ensure_ascii=False),
        json.dumps(bad_name, ensure_ascii=False),
        "[1, 2]",
    ]
    lines += [json.dumps(d, ensure_ascii=False) for d in good[3:]]
    code, out, _ = _run(_write(tmp_path, lines), "--batch-size", "2")
    assert code == 1  # some lines were rejected
    assert "accepted: 5" in out and "rejected: 4" in out
    assert "line 4" in out and "json" in out
    assert "descriptor.update_frequency" in out and "naming.forbidden_term" in out
    assert Product.objects.count() == 5
    assert ProductVersion.objects.count() == 5
    assert ProductRegion.objects.count() == 5
    assert set(Product.objects.values_list("status", flat=True)) == {ProductStatus.DRAFT}


def test_listed_import_applies_compliance_rules(tmp_path):
    blocked = random_descriptor()
    blocked["compliance"]["cross_border_transfer"] = {
        "involved": True,
        "status": "passed",
        "evidence_ref": "X",
    }
    blocked["compliance"]["security_assessment"] = {"status": "pending", "evidence_ref": None}
    good = random_descriptor()
    for d in (good, blocked):
        register_provider(d["provider"]["uscc"], d["provider"]["name"])
    lines = [json.dumps(good, ensure_ascii=False), json.dumps(blocked, ensure_ascii=False)]
    code, out, _ = _run(_write(tmp_path, lines), "--status", "listed")
    assert code == 1 and "accepted: 1" in out
    product = Product.objects.get()
    assert product.status == ProductStatus.LISTED and product.listed_at is not None
    assert product.versions.get().change == "imported"


def test_duplicate_names_within_one_file_and_against_stored_products(tmp_path):
    d = random_descriptor()
    lines = [json.dumps(d, ensure_ascii=False)] * 2
    code, out, _ = _run(_write(tmp_path, lines))
    assert code == 1 and "accepted: 1" in out and "naming.duplicate" in out
    code, out, _ = _run(_write(tmp_path, lines[:1]))
    assert code == 1 and "accepted: 0" in out and Product.objects.count() == 1


def test_imported_products_are_searchable_and_have_valid_codes(tmp_path, anon):
    from standards.product_code import product_code_is_valid

    d = random_descriptor(
        name="上海市港口集装箱吞吐量数据集",
        product_form="dataset",
        keywords=["集装箱"],
        spatial_coverage=["310000"],
    )
    register_provider(d["provider"]["uscc"], d["provider"]["name"])
    _run(_write(tmp_path, [json.dumps(d, ensure_ascii=False)]), "--status", "listed")
    product = Product.objects.get()
    assert product_code_is_valid(product.code)
    results = anon.get("/api/v1/products/", {"q": "集装箱"}).json()["results"]
    assert [r["code"] for r in results] == [product.code]


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_products", str(tmp_path / "missing.jsonl"))


def test_listing_by_import_needs_registered_verified_data_merchants(tmp_path):
    registered, pending, unregistered, demander = (random_descriptor() for _ in range(4))
    register_provider(registered["provider"]["uscc"], registered["provider"]["name"])
    register_provider(pending["provider"]["uscc"], pending["provider"]["name"], status="pending")
    register_provider(demander["provider"]["uscc"], demander["provider"]["name"], roles=("demander",))
    lines = [json.dumps(d, ensure_ascii=False) for d in (registered, pending, unregistered, demander)]
    code, out, _ = _run(_write(tmp_path, lines), "--status", "listed")
    assert code == 1 and "accepted: 1" in out and "rejected: 3" in out
    assert "line 2: descriptor.provider.uscc: provider.not_verified" in out
    assert "line 3: descriptor.provider.uscc: provider.not_registered" in out
    assert "line 4: descriptor.provider.uscc: provider.not_data_merchant" in out
    assert Product.objects.get().provider_uscc == registered["provider"]["uscc"]
    # Drafts need no registered provider yet: the check is at submission.
    code, out, _ = _run(_write(tmp_path, [lines[2]]))
    assert code == 0 and "accepted: 1" in out


def test_a_line_holding_a_nul_is_rejected_on_every_database(tmp_path):
    """No PostgreSQL column stores a NUL and every peer refuses an entry with one: a line with a NUL
    character is rejected with its reason (a backslash followed by "u0000" is text, and imports)."""
    nul, text = random_descriptor(), random_descriptor()
    nul["summary"] += "\x00"
    text["summary"] += "\\u0000"
    code, out, _ = _run(_write(tmp_path, [json.dumps(nul), json.dumps(text)]))
    assert code == 1 and "accepted: 1" in out and "rejected: 1" in out
    assert "line 1" in out and "invalid_character" in out
    assert Product.objects.get().descriptor["summary"].endswith("\\u0000")
