from django.core.management.base import BaseCommand, CommandError

from federation.keys import KeyError_
from federation.models import Peer
from federation.peers import peer_add, peer_remove


class Command(BaseCommand):
    help = "Manage the peer directory: peers add CODE URL PUBLIC_KEY | peers list | peers remove CODE"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Add or update a peer")
        add.add_argument("code")
        add.add_argument("url")
        add.add_argument("public_key", help="Base64 Ed25519 public key (manage.py node_init prints it)")
        add.add_argument("--disabled", action="store_true")
        sub.add_parser("list", help="List peers")
        remove = sub.add_parser("remove", help="Remove a peer")
        remove.add_argument("code")

    def handle(self, *args, action: str, **options):
        if action == "add":
            try:
                peer = peer_add(
                    code=options["code"],
                    base_url=options["url"],
                    public_key=options["public_key"],
                    enabled=not options["disabled"],
                )
            except (ValueError, KeyError_) as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"peer {peer.exchange_id} {peer.base_url} {'enabled' if peer.enabled else 'disabled'}"
            )
        elif action == "list":
            for peer in Peer.objects.order_by("exchange_id"):
                state = "enabled" if peer.enabled else "disabled"
                self.stdout.write(
                    f"{peer.exchange_id}\t{peer.base_url}\t{state}\t{peer.public_key}\t"
                    f"failures={peer.consecutive_failures}"
                )
        elif action == "remove":
            if not peer_remove(code=options["code"]):
                raise CommandError(f"no peer {options['code']!r}")
            self.stdout.write(f"removed {options['code'].upper()}")
