import json

from django.core.management.base import BaseCommand

from federation.pull import pull_origin
from federation.repair import anti_entropy_check
from federation.selectors import peers_enabled, sync_status


class Command(BaseCommand):
    help = "sync status | sync verify (compare digests with every peer, repair) | sync pull ORIGIN"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="Per peer and per origin: cursor, lag, last success, errors")
        sub.add_parser("verify", help="Anti-entropy: compare digests with every peer and repair differences")
        pull = sub.add_parser("pull", help="Pull one origin now")
        pull.add_argument("origin")

    def handle(self, *args, action: str, **options):
        if action == "status":
            self.stdout.write(json.dumps(sync_status(), default=str, ensure_ascii=False, indent=2))
        elif action == "verify":
            report = [row for peer in peers_enabled() for row in anti_entropy_check(peer=peer)]
            for row in report:
                self.stdout.write(json.dumps(row, ensure_ascii=False))
            differs = [r for r in report if r["status"] not in {"equal", "repaired"}]
            self.stdout.write(
                f"checked {len(report)}, repaired {sum(r['status'] == 'repaired' for r in report)}, "
                f"unresolved {len(differs)}"
            )
        elif action == "pull":
            applied = pull_origin(origin=options["origin"].upper())
            self.stdout.write(f"applied {applied}")
