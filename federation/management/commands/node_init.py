from django.conf import settings
from django.core.management.base import BaseCommand

from federation.keys import key_generate, public_key_b64
from federation.signals import node_initialised


class Command(BaseCommand):
    help = "Create this node's Ed25519 key pair if it has none, and print its public key as the last line."

    def add_arguments(self, parser):
        parser.add_argument(
            "--rotate", action="store_true", help="Replace an existing key (peers must be told)."
        )

    def handle(self, *args, rotate: bool, **options):
        if settings.NODE_PRIVATE_KEY:
            self.stderr.write("the key comes from NODE_PRIVATE_KEY; nothing written")
        else:
            path, created = key_generate(overwrite=rotate)
            self.stderr.write(f"{'created' if created else 'kept'} {path}")
        published = sum(count or 0 for _, count in node_initialised.send(sender=self.__class__))
        if published:
            self.stderr.write(f"published {published} records that had no change-log entry")
        self.stdout.write(public_key_b64())
