"""Harvesting another catalog into draft products of this node (docs/interop.md, *Harvesting*).

A source (`interop.harvest_ckan`, `interop.harvest_dcat`) yields *harvested records*, plain dicts whatever the
source's format:

    {"identifier", "modified", "title", "description", "keywords": [...],
     "publisher": {"id", "name"}, "temporal": {"start", "end"}, "spatial": [...], "frequency",
     "delivery_methods": [...], "descriptor": {fields of the standard the source states outright},
     "usage_policy": the policy the source offers (a usage policy document) or None}

`descriptor_from_record` maps one to a product descriptor; `harvest_run` writes it as a draft product when the
descriptor standard accepts it, and otherwise keeps the mapped descriptor with the list of what is still
missing, per record, in `HarvestRecord`. Everything from a source is untrusted input.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from django.db import transaction
from django.utils import timezone

from core.exceptions import DomainError, ValidationFailed
from interop.models import HarvestRecord, HarvestSource
from participants.models import Participant
from products.checks import descriptor_accept
from products.models import ProductStatus
from products.services import product_create, product_update

MAX_BYTES = 50 * 1024 * 1024  # one answer of a source
TIMEOUT = 30
USER_AGENT = "dexnet-registry-harvester/1.0"


class HarvestError(Exception):
    """The source cannot be harvested at all (unreachable, not the format expected): the command's error."""


def fetch(url: str, *, accept: str, params: dict | None = None) -> tuple[bytes, str]:
    """GET a source's document: (body, content type), bounded in size and time; a failure: HarvestError."""
    try:
        with requests.get(
            url,
            params=params,
            headers={"Accept": accept, "User-Agent": USER_AGENT},
            timeout=TIMEOUT,
            stream=True,
        ) as answer:
            if answer.status_code != 200:
                raise HarvestError(f"{answer.url} answered HTTP {answer.status_code}")
            body = bytearray()
            for chunk in answer.iter_content(64 * 1024):
                body.extend(chunk)
                if len(body) > MAX_BYTES:
                    raise HarvestError(f"{answer.url} answered more than {MAX_BYTES} bytes")
            kind = answer.headers.get("Content-Type", "").split(";")[0].strip().lower()
            return bytes(body), kind
    except requests.RequestException as exc:
        raise HarvestError(f"cannot read {url}: {exc.__class__.__name__}: {exc}") from exc


# --- the provider map ---------------------------------------------------------------------------------------


def provider_map_load(path: str) -> dict[str, str]:
    """The operator's map of the source's organisations (ids or names) to USCCs of registered providers:
    a JSON object, or a CSV file of two columns (organisation, uscc; a header line is skipped)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HarvestError(f"cannot read the provider map {path}: {exc}") from exc
    if path.lower().endswith(".json") or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise HarvestError(f"the provider map {path} is not valid JSON: {exc}") from exc
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise HarvestError(f"the provider map {path} must be a JSON object of organisation → USCC")
        pairs = list(data.items())
    else:
        rows = [row for row in csv.reader(text.splitlines()) if row and any(c.strip() for c in row)]
        if rows and rows[0][-1].strip().lower() == "uscc":
            rows = rows[1:]
        if any(len(row) != 2 for row in rows):
            raise HarvestError(f"the provider map {path} must have two columns: organisation, uscc")
        pairs = [(row[0], row[1]) for row in rows]
    mapping = {key.strip(): value.strip().upper() for key, value in pairs if key.strip()}
    known = set(
        Participant.objects.filter(participant_id__in=set(mapping.values())).values_list(
            "participant_id", flat=True
        )
    )
    unknown = sorted(set(mapping.values()) - known)
    if unknown:
        raise HarvestError("the provider map names USCCs of no registered participant: " + ", ".join(unknown))
    return mapping


# --- mapping a harvested record to a descriptor -------------------------------------------------------------

_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})")
_REGION = re.compile(r"(\d{6})/?$")
# The EU frequency vocabulary (DCAT-AP's dct:accrualPeriodicity) and CKAN's text, to the standard's codes.
FREQUENCIES = {
    "CONT": "realtime",
    "UPDATE_CONT": "realtime",
    "HOURLY": "hourly",
    "DAILY": "daily",
    "WEEKLY": "weekly",
    "MONTHLY": "monthly",
    "QUARTERLY": "quarterly",
    "ANNUAL": "yearly",
    "YEARLY": "yearly",
    "IRREG": "irregular",
    "IRREGULAR": "irregular",
    "NEVER": "one_off",
    "ONE_OFF": "one_off",
    "REALTIME": "realtime",
}


def frequency_code(value: str | None) -> str | None:
    if not value:
        return None
    return FREQUENCIES.get(value.rstrip("/").rsplit("/", 1)[-1].strip().upper().replace("-", "_"))


def date_part(value: str | None) -> str | None:
    match = _DATE.match(value or "")
    return match.group(1) if match else None


def region_codes(values: Iterable[str]) -> list[str]:
    """GB/T 2260 codes: the six digits a value is or ends with (a code, or a URI ending with one)."""
    found = [m.group(1) for m in (_REGION.search(str(v).strip()) for v in values) if m]
    return list(dict.fromkeys(found))


def _provider(record: dict, mapping: dict[str, str], names: dict[str, str]) -> dict | None:
    publisher = record.get("publisher") or {}
    for key in (publisher.get("uscc"), publisher.get("id"), publisher.get("name")):
        if key and key.strip() in mapping:
            uscc = mapping[key.strip()]
            return {"name": names.get(uscc) or publisher.get("name") or "", "uscc": uscc}
    return None


def descriptor_from_record(record: dict, *, mapping: dict[str, str], names: dict[str, str]) -> dict:
    """The descriptor fields a harvested record gives; the fields it cannot give are left out (they are what
    the standard reports as `required`)."""
    descriptor: dict = {"descriptor_version": "1.0"}
    stated = record.get("descriptor") or {}
    if record.get("title"):
        descriptor["name"] = record["title"]
    if record.get("description"):
        descriptor["summary"] = record["description"]
    provider = _provider(record, mapping, names)
    if provider:
        descriptor["provider"] = provider
    if record.get("keywords"):
        descriptor["keywords"] = list(record["keywords"])
    spatial = region_codes(record.get("spatial") or [])
    if spatial:
        descriptor["spatial_coverage"] = spatial
    temporal = record.get("temporal") or {}
    start = date_part(temporal.get("start"))
    if start:
        descriptor["temporal_coverage"] = {"start": start, "end": date_part(temporal.get("end"))}
    frequency = frequency_code(record.get("frequency"))
    if frequency:
        descriptor["update_frequency"] = frequency
    if record.get("delivery_methods"):
        descriptor["delivery_methods"] = list(dict.fromkeys(record["delivery_methods"]))[:4]
    for key, value in stated.items():
        descriptor.setdefault(key, value)
    return descriptor


def merge_defaults(descriptor: dict, defaults: dict) -> dict:
    """The operator's defaults (`--defaults`) under what the record gives: the record wins, objects merge."""
    merged = dict(defaults)
    for key, value in descriptor.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_defaults(value, merged[key])
        else:
            merged[key] = value
    return merged


def unmapped_error(record: dict) -> dict:
    publisher = record.get("publisher") or {}
    who = " / ".join(v for v in (publisher.get("id"), publisher.get("name")) if v) or "(none)"
    return {
        "field": "descriptor.provider",
        "code": "harvest.unmapped_organisation",
        "message": f"来源机构 {who} 不在提供方映射中",
        "message_en": f"The source's organisation {who!r} is not in the provider map",
    }


def not_draft_error(product) -> dict:
    return {
        "field": "",
        "code": "harvest.not_draft",
        "message": f"产品 {product.code} 已不是草稿（{product.status}），未更新",
        "message_en": f"Product {product.code} is no longer a draft ({product.status}): not updated",
    }


# --- the run ------------------------------------------------------------------------------------------------


@dataclass
class RecordReport:
    """What became of one harvested record: `action` is created, updated, unchanged, incomplete (with
    `errors`: what the descriptor standard still needs), skipped (its product is no longer a draft), or in a
    dry run would_create / would_update."""

    identifier: str
    title: str = ""
    action: str = "incomplete"
    code: str | None = None
    errors: list[dict] = field(default_factory=list)


def _domain_errors(exc: DomainError) -> list[dict]:
    if isinstance(exc, ValidationFailed):
        return [e.as_dict() for e in exc.errors]
    return [{"field": "", "code": exc.code, "message": exc.message, "message_en": exc.message_en}]


def _check(descriptor: dict, record: dict, *, exchange_id: str, exclude_id: int | None) -> list[dict]:
    errors: list[dict] = []
    if "provider" not in descriptor:
        errors.append(unmapped_error(record))
    try:
        descriptor_accept(descriptor, exchange_id=exchange_id, exclude_id=exclude_id)
    except ValidationFailed as exc:
        found = _domain_errors(exc)
        if errors:  # the unmapped organisation already says why the provider is missing
            found = [e for e in found if (e["field"], e["code"]) != ("descriptor.provider", "required")]
        errors.extend(found)
    return errors


@transaction.atomic
def _write(source: HarvestSource, stored: HarvestRecord | None, record: dict, descriptors, report) -> None:
    harvested, descriptor = descriptors
    if stored is None:
        stored = HarvestRecord(source=source, identifier=report.identifier)
    stored.descriptor, stored.errors = harvested, report.errors
    stored.usage_policy = record.get("usage_policy")
    stored.source_modified = str(record.get("modified") or "")[:64]
    if not report.errors:
        try:
            if stored.product is not None:
                before = stored.product.version
                product = product_update(actor=None, product=stored.product, descriptor=descriptor)
                report.action = "updated" if product.version != before else "unchanged"
            else:
                product = product_create(actor=None, descriptor=descriptor, exchange=source.exchange)
                report.action = "created"
            stored.product, report.code = product, product.code
        except DomainError as exc:
            report.action, report.errors = "incomplete", _domain_errors(exc)
            stored.errors = report.errors
    stored.save()


def harvest_one(source: HarvestSource, record: dict, *, mapping, names, defaults, dry_run) -> RecordReport:
    identifier = str(record.get("identifier") or "").strip()[:500]
    report = RecordReport(identifier=identifier, title=str(record.get("title") or "")[:200])
    if not identifier:
        report.errors = [
            {
                "field": "identifier",
                "code": "required",
                "message": "来源记录没有标识符",
                "message_en": "The source's record has no identifier",
            }
        ]
        return report
    given = descriptor_from_record(record, mapping=mapping, names=names)
    harvested = merge_defaults(given, defaults)  # what the source says, kept to see whether it changed
    stored = None
    if source.pk is not None:
        stored = HarvestRecord.objects.filter(source=source, identifier=identifier).select_related("product")
        stored = stored.first()
    product = stored.product if stored is not None else None
    report.code = product.code if product is not None else None
    policy_same = stored is not None and stored.usage_policy == record.get("usage_policy")
    if product is not None and stored.descriptor == harvested and not stored.errors and policy_same:
        report.action = "unchanged"
        return report
    if product is not None and product.status != ProductStatus.DRAFT:
        report.action, report.errors = "skipped", [not_draft_error(product)]
        return report
    # A draft made before is updated with what the source gives, over the draft as it now is: what an
    # operator completed in it and the source does not say stays.
    target = merge_defaults(given, product.descriptor) if product is not None else harvested
    report.errors = _check(
        target, record, exchange_id=source.exchange_id, exclude_id=product.pk if product else None
    )
    if dry_run:
        report.action = "incomplete" if report.errors else ("would_update" if product else "would_create")
        return report
    _write(source, stored, record, (harvested, target), report)
    return report


def harvest_run(
    records: Iterable[dict],
    *,
    source: HarvestSource,
    mapping: dict[str, str],
    defaults: dict | None = None,
    dry_run: bool = False,
    progress: Callable[[RecordReport], None] | None = None,
) -> list[RecordReport]:
    """Harvest every record; each is written in its own transaction, so an interrupted run keeps what it
    did and a re-run takes up from there (unchanged records are only compared)."""
    names = dict(
        Participant.objects.filter(participant_id__in=set(mapping.values())).values_list(
            "participant_id", "legal_name"
        )
    )
    reports = []
    for record in records:
        if not dry_run and source.pk is None:  # once the source answered a record
            source.save()
        report = harvest_one(
            source, record, mapping=mapping, names=names, defaults=defaults or {}, dry_run=dry_run
        )
        reports.append(report)
        if progress is not None:
            progress(report)
    if not dry_run and source.pk is not None:
        source.last_run_at = timezone.now()
        source.save(update_fields=["last_run_at"])
    return reports
