from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.services import api_token_issue, operator_ensure
from exchanges.selectors import exchange_get


class Command(BaseCommand):
    help = (
        "Create the operator EXCHANGE_CODE/USERNAME of this node's exchange if needed and print a new API "
        "token as the last line. The node is the one NODE_CODE names (each node has its own database)."
    )

    def add_arguments(self, parser):
        parser.add_argument("exchange_code")
        parser.add_argument("username")

    def handle(self, *args, exchange_code: str, username: str, **options):
        exchange = exchange_get(code=exchange_code)
        if exchange is None:
            raise CommandError(f"unknown exchange code {exchange_code!r}")
        if exchange.code != settings.NODE_CODE:
            # A token made here lives in this node's database: no node of that exchange would accept it.
            raise CommandError(
                f"{exchange.code} is not this node's exchange ({settings.NODE_CODE}): a token made here "
                f"would be accepted by no node. Run the command with {exchange.code}'s settings, e.g. "
                f"`NODE_CODE={exchange.code} .venv/bin/python manage.py operator_token {exchange.code} "
                f"{username}` (the local network of `make run` keeps {exchange.code}'s database in "
                f"var/{exchange.code.lower()}/)."
            )
        try:
            user = operator_ensure(exchange=exchange, username=username)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        raw = api_token_issue(user=user, name="cli")
        self.stderr.write(f"operator {user.username} of {exchange.code} ({exchange.name_zh})")
        self.stdout.write(raw)
