from django.core.management.base import BaseCommand, CommandError

from accounts.services import api_token_issue, operator_ensure
from exchanges.selectors import exchange_get


class Command(BaseCommand):
    help = "Create the operator EXCHANGE_CODE/USERNAME if needed and print a new API token as the last line."

    def add_arguments(self, parser):
        parser.add_argument("exchange_code")
        parser.add_argument("username")

    def handle(self, *args, exchange_code: str, username: str, **options):
        exchange = exchange_get(code=exchange_code)
        if exchange is None:
            raise CommandError(f"unknown exchange code {exchange_code!r}")
        try:
            user = operator_ensure(exchange=exchange, username=username)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        raw = api_token_issue(user=user, name="cli")
        self.stderr.write(f"operator {user.username} of {exchange.code} ({exchange.name_zh})")
        self.stdout.write(raw)
