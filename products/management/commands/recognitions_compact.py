import json

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import DomainError
from products.compaction import recognitions_compact


class Command(BaseCommand):
    help = (
        "Recognition protocol 2's clean-up: drop the recognitions every node computes itself (other "
        "exchanges' records equal to the automatic check, with their log entries; this node's own leave its "
        "log). Run at every node once it and all its peers announce protocol 2. Prints the counts as JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chunk", type=int, default=2000, help="Records per transaction.")

    def handle(self, *args, chunk: int, **options):
        try:
            counts = recognitions_compact(chunk=max(1, chunk))
        except DomainError as exc:
            raise CommandError(getattr(exc, "message_en", str(exc))) from None
        self.stdout.write(json.dumps(counts))
