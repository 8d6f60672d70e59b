import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from tqdm import tqdm

from accounts.models import User
from core.exceptions import DomainError
from products.importing import IMPORT_STATUSES, import_stream

MAX_REPORTED = 200


class Command(BaseCommand):
    help = (
        "Import product descriptors (JSON lines, one descriptor per line) as products of this node's "
        "exchange, through the same validation as the API. Exits 1 if any line was rejected."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to a .jsonl file, or - for standard input.")
        parser.add_argument(
            "--status",
            choices=IMPORT_STATUSES,
            default="draft",
            help="draft (default) or listed: listed runs the compliance rules first.",
        )
        parser.add_argument("--operator", help="Username recorded as the author (default: the node itself).")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--jobs",
            type=int,
            default=None,
            help="Worker processes (default: one per core on PostgreSQL, 1 on SQLite).",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(
        self,
        *args,
        file: str,
        status: str,
        operator: str | None,
        batch_size: int,
        jobs: int | None,
        no_progress: bool,
        **options,
    ):
        actor_id = None
        if operator:
            actor_id = User.objects.filter(username=operator).values_list("pk", flat=True).first()
            if actor_id is None:
                raise CommandError(f"unknown operator {operator!r}")
        if jobs is None:
            jobs = (os.cpu_count() or 1) if connection.vendor == "postgresql" else 1
        if connection.in_atomic_block:
            jobs = 1  # worker processes cannot share an open transaction (e.g. a test's)
        try:
            stream = sys.stdin if file == "-" else Path(file).open(encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from exc

        accepted = rejected = 0
        reports: list[str] = []
        progress = tqdm(unit=" lines", disable=no_progress, file=sys.stderr)
        try:
            for read, results in import_stream(
                stream, actor_id=actor_id, status=status, batch_size=batch_size, jobs=jobs
            ):
                for result in results:
                    if result.accepted:
                        accepted += 1
                        continue
                    rejected += 1
                    if len(reports) < MAX_REPORTED:
                        reasons = "; ".join(
                            f"{e['field']}: {e['code']} ({e['message_en']})" for e in result.errors
                        )
                        reports.append(f"  line {result.line}: {reasons}")
                progress.update(read)
        except DomainError as exc:
            raise CommandError(exc.message_en) from exc
        finally:
            progress.close()
            if stream is not sys.stdin:
                stream.close()

        self.stdout.write(f"accepted: {accepted}")
        self.stdout.write(f"rejected: {rejected}")
        for line in reports:
            self.stdout.write(line)
        if rejected > len(reports):
            self.stdout.write(f"  … and {rejected - len(reports)} more rejected lines")
        if rejected:
            sys.exit(1)
