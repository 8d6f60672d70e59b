"""The deal standard's rules for what a delivery and its receipt carry (docs/deals.md, "Delivery"): per
method — file (each file's name, size, SHA-256), api (endpoint, the credential's reference, never the secret;
quota, validity), sandbox (environment reference, what may be exported), offline (handover reference) — and
the buyer's receipt (for files, the digests it computed). Pure."""

from __future__ import annotations

import re
from typing import Any

from standards.deal_fields import SHA256, choice, e, exact, text, whole
from standards.vocabularies import vocabulary_codes

MAX_FILES = 100

# What a credential looks like when someone pastes the secret instead of naming it: long runs of key-like
# characters, well-known prefixes, "user:password@", bearer tokens, PEM blocks.
_SECRET_LIKE = re.compile(
    r"(-----BEGIN|\b(sk|pk|ak|xox[abp]|ghp|gho|glpat|AKIA)[-_][A-Za-z0-9_\-]{8,}|"
    r"\bbearer\s+\S{12,}|://[^/\s:@]+:[^/\s@]+@|\b(password|passwd|secret|token|apikey|api_key)\s*[=:]|"
    r"[A-Za-z0-9+/_\-]{32,})",
    re.IGNORECASE,
)


def _files(value: Any, errors: list, *, with_size: bool) -> list[dict]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_FILES:
        errors.append(e("files", "type", f"须为1–{MAX_FILES}个文件", f"files: 1 to {MAX_FILES} entries"))
        return []
    keys = {"name", "size", "sha256"} if with_size else {"name", "sha256"}
    clean = []
    for i, item in enumerate(value):
        ok = isinstance(item, dict) and set(item) == keys
        ok = ok and isinstance(item["name"], str) and 0 < len(item["name"]) <= 255
        ok = ok and isinstance(item["sha256"], str) and bool(SHA256.fullmatch(item["sha256"]))
        if ok and with_size:
            ok = not isinstance(item["size"], bool) and isinstance(item["size"], int) and item["size"] >= 0
        if not ok:
            errors.append(
                e(f"files.{i}", "format", f"须含 {'、'.join(sorted(keys))}", f"Each file: {sorted(keys)}")
            )
            continue
        clean.append({k: item[k] for k in sorted(keys)})
    names = [f["name"] for f in clean]
    if len(set(names)) != len(names):
        errors.append(e("files", "duplicate", "文件名重复", "File names must be unique"))
    return clean


def secret_like(value: str) -> bool:
    """Whether `value` looks like a secret (a key, a token, a password) rather than a reference to one."""
    return bool(_SECRET_LIKE.search(value))


def delivery_clean(body: dict, errors: list) -> dict:
    method = choice(
        body if isinstance(body, dict) else {}, "method", vocabulary_codes("delivery_method"), errors
    )
    fields = {
        "file": {"files"},
        "api": {"endpoint", "credential_ref", "quota", "valid_until"},
        "sandbox": {"environment_ref", "exports_allowed"},
        "offline": {"handover_ref"},
    }.get(method, set())
    body = exact(body, {"method", "note"} | fields, errors)
    clean: dict[str, Any] = {"method": method, "note": text(body, "note", errors)}
    if method == "file":
        clean["files"] = _files(body.get("files"), errors, with_size=True)
    elif method == "api":
        clean["endpoint"] = text(body, "endpoint", errors, required=True, limit=500)
        if not clean["endpoint"].startswith("https://"):
            errors.append(e("endpoint", "format", "接口地址须为 https://", "The endpoint must be https://"))
        clean["credential_ref"] = text(body, "credential_ref", errors, required=True, limit=120)
        if secret_like(clean["credential_ref"]):
            errors.append(
                e(
                    "credential_ref",
                    "secret",
                    "只能填写凭证的引用编号，不得填写密钥本身",
                    "Give the credential's reference, never the secret itself",
                )
            )
        clean["quota"] = whole(body, "quota", 1, 10**12, errors)
        clean["valid_until"] = text(body, "valid_until", errors, required=True, limit=32)
    elif method == "sandbox":
        clean["environment_ref"] = text(body, "environment_ref", errors, required=True, limit=120)
        exports = body.get("exports_allowed")
        if not isinstance(exports, list) or not all(isinstance(x, str) and len(x) <= 120 for x in exports):
            errors.append(e("exports_allowed", "type", "须为文本列表", "A list of what may be exported"))
            exports = []
        clean["exports_allowed"] = exports[:50]
    elif method == "offline":
        clean["handover_ref"] = text(body, "handover_ref", errors, required=True, limit=120)
    return clean


def receipt_clean(body: dict, errors: list) -> dict:
    body = exact(body, {"files", "note", "mismatches"}, errors)
    clean: dict[str, Any] = {"note": text(body, "note", errors)}
    if "files" in body:
        clean["files"] = _files(body["files"], errors, with_size=False)
    mismatches = body.get("mismatches", [])
    if not isinstance(mismatches, list) or not all(isinstance(m, str) and len(m) <= 255 for m in mismatches):
        errors.append(e("mismatches", "type", "须为文件名列表", "mismatches: a list of file names"))
        mismatches = []
    clean["mismatches"] = mismatches
    return clean
