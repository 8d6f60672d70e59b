import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from exchanges.models import Exchange
from interop.harvest import HarvestError, harvest_run, provider_map_load
from interop.harvest_ckan import ckan_count, ckan_records
from interop.harvest_dcat import dcat_source_records
from interop.models import HarvestSource

MAX_REPORTED = 500
_RDF_SUFFIXES = (".ttl", ".jsonld", ".rdf", ".xml", ".json", ".nt", ".n3")


def source_format(location: str, requested: str) -> str:
    """ckan or dcat: as asked, else a file or an RDF suffix is DCAT, else a site answering CKAN's
    `package_search` is CKAN, else DCAT."""
    if requested != "auto":
        return requested
    if "://" not in location or location.split("?")[0].lower().endswith(_RDF_SUFFIXES):
        return "dcat"
    try:
        ckan_count(location)
    except HarvestError:
        return "dcat"
    return "ckan"


class Command(BaseCommand):
    help = (
        "Harvest a CKAN site (Action API) or a DCAT catalog (JSON-LD, Turtle, RDF/XML; a URL or a file) into "
        "draft products of this node, reporting per record what the descriptor standard still needs. "
        "A re-run updates the drafts it made (the source's identifiers are kept): docs/interop.md."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "url", help="The CKAN site (or its /api/3/action), or the DCAT catalog URL or file."
        )
        parser.add_argument(
            "--exchange", required=True, help="This node's exchange code: the products' home."
        )
        parser.add_argument(
            "--provider-map",
            required=True,
            help="JSON object or two-column CSV: the source's organisation id or name → a registered USCC.",
        )
        parser.add_argument(
            "--defaults",
            help="JSON object of descriptor fields the source lacks (e.g. compliance, pricing), under the "
            "record's own values.",
        )
        parser.add_argument("--format", choices=("auto", "ckan", "dcat"), default="auto")
        parser.add_argument("--dry-run", action="store_true", help="Report only: write nothing.")
        parser.add_argument("--no-progress", action="store_true")

    def _defaults(self, path: str | None) -> dict:
        if not path:
            return {}
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CommandError(f"cannot read the defaults {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise CommandError(f"the defaults {path} must be a JSON object of descriptor fields")
        return data

    def handle(self, *args, url, exchange, provider_map, defaults, format, dry_run, no_progress, **options):
        if exchange != settings.NODE_CODE or not Exchange.objects.filter(code=exchange).exists():
            raise CommandError(
                f"--exchange must be this node's exchange ({settings.NODE_CODE}), not {exchange!r}"
            )
        defaults_data = self._defaults(defaults)
        try:
            mapping = provider_map_load(provider_map)
            kind = source_format(url, format)
            location = url if "://" in url else str(Path(url).resolve())
            source = HarvestSource.objects.filter(url=location).first()
            if source is None:
                source = HarvestSource(url=location, format=kind, exchange_id=exchange)
            elif source.format != kind or source.exchange_id != exchange:
                raise CommandError(
                    f"{location} was harvested before as {source.format} for {source.exchange_id}"
                )
            records = ckan_records(url) if kind == "ckan" else dcat_source_records(url)
            total = ckan_count(url) if kind == "ckan" else None  # a DCAT catalog's size shows as it is read
            bar = getattr(self.stderr, "_out", sys.stderr)  # the stream itself: tqdm writes "\r", not lines
            progress = tqdm(total=total, unit=" records", disable=no_progress, file=bar)
            try:
                reports = harvest_run(
                    records,
                    source=source,
                    mapping=mapping,
                    defaults=defaults_data,
                    dry_run=dry_run,
                    progress=lambda _: progress.update(1),
                )
            finally:
                progress.close()
        except HarvestError as exc:
            raise CommandError(str(exc)) from exc
        self._report(reports, kind=kind, dry_run=dry_run)

    def _report(self, reports, *, kind, dry_run):
        counts: dict[str, int] = {}
        for report in reports:
            counts[report.action] = counts.get(report.action, 0) + 1
        self.stdout.write(f"source: {kind}{' (dry run: nothing written)' if dry_run else ''}")
        self.stdout.write(f"records: {len(reports)}")
        for action in sorted(counts):
            self.stdout.write(f"{action}: {counts[action]}")
        incomplete = [r for r in reports if r.errors]  # incomplete, or skipped
        for report in incomplete[:MAX_REPORTED]:
            if report.action == "skipped":
                self.stdout.write(f"record {report.identifier} {report.title!r} left as it is:")
            else:
                where = f" (draft {report.code} kept as it was)" if report.code else ""
                self.stdout.write(f"record {report.identifier} {report.title!r}{where} still needs:")
            for error in report.errors:
                self.stdout.write(f"  {error['field']}: {error['code']} ({error['message_en']})")
        if len(incomplete) > MAX_REPORTED:
            self.stdout.write(f"… and {len(incomplete) - MAX_REPORTED} more incomplete records")
