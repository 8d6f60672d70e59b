import json

from django.core.management.base import BaseCommand

from federation.pull import pull_origin
from federation.repair import anti_entropy_check
from federation.selectors import peers_enabled, sync_status
from federation.unknown_standards import unknown_standards_retry


class Command(BaseCommand):
    help = (
        "sync status | sync verify (compare digests with every peer, repair) | sync pull ORIGIN | "
        "sync retry (apply the entries that waited for a standard version this node now knows)"
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "status",
            help="Per peer and per origin: cursor, lag, last success, errors; peers whose standards differ",
        )
        sub.add_parser("verify", help="Anti-entropy: compare digests with every peer and repair differences")
        pull = sub.add_parser("pull", help="Pull one origin now")
        pull.add_argument("origin")
        sub.add_parser(
            "retry", help="Apply the entries quarantined as unknown_standard whose standard is known now"
        )

    def handle(self, *args, action: str, **options):
        if action == "status":
            status = sync_status()
            self.stdout.write(json.dumps(status, default=str, ensure_ascii=False, indent=2))
            self._standards(status)
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
        elif action == "retry":
            counts = unknown_standards_retry()
            self.stdout.write(
                f"applied again {counts['retried']}, arrived otherwise {counts['held']}, "
                f"waiting {counts['waiting']}"
            )

    def _standards(self, status: dict) -> None:
        """On stderr (stdout stays one JSON document): one line per peer whose announced standards differ
        from this node's, and the peers that announced none yet."""
        mine = status["standards"]
        self.stderr.write(f"standards of {status['node']}: {mine['sha256']}")
        for peer in status["peers"]:
            if peer["standards_status"] != "differ":
                continue
            diffs = ", ".join(
                f"{d['code']} {d['mine'] or '-'} here, {d['theirs'] or '-'} there"
                if d["code"] != "*"
                else "same versions, different content"
                for d in peer["standards_differences"]
            )
            self.stderr.write(self.style.WARNING(f"standards differ at {peer['code']}: {diffs}"))
        unknown = [p["code"] for p in status["peers"] if p["standards_status"] == "unknown"]
        if unknown:
            self.stderr.write(f"standards not announced (yet) by: {', '.join(unknown)}")
