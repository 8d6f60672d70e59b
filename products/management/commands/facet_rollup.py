from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from products.facet_rollup import rollup_rebuild


class Command(BaseCommand):
    help = (
        "Check the facet rollup (PostgreSQL) against a count over the products, or --rebuild it from them: "
        "for after a data-only restore or anything else that bypassed the products table's triggers "
        "(docs/operations.md). Writers of products wait while it runs; readers do not."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="Keep the recount (without it: check only, exit 1 if wrong).",
        )

    def handle(self, *args, rebuild: bool, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("the facet rollup is kept on PostgreSQL only: nothing to do on this database")
            return
        wrong, combinations = rollup_rebuild(keep=rebuild)
        if rebuild:
            self.stdout.write(f"rebuilt: {combinations} combinations, {wrong} of them were wrong or missing")
        elif wrong:
            raise CommandError(
                f"the facet rollup differs from the products in {wrong} combinations: "
                "run `manage.py facet_rollup --rebuild`"
            )
        else:
            self.stdout.write(f"the facet rollup agrees with the products ({combinations} combinations)")
