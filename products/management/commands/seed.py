import random

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.services import api_token_issue, operator_ensure
from exchanges.selectors import node_exchange
from exchanges.services import exchange_mark_node
from participants.services import providers_register_verified
from products.importing import product_import_batch
from products.models import Product, ProductStatus
from products.sample_data import descriptor


class Command(BaseCommand):
    help = (
        "Prepare this node for a demo: mark its exchange as running a node, create the demo operator, list "
        "sample products if it has none, and print a new demo operator token as the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=30, help="Sample products to list if none exist.")
        parser.add_argument("--operator", default="demo", help="Username of the demo operator.")

    @transaction.atomic
    def handle(self, *args, products: int, operator: str, **options):
        exchange = exchange_mark_node(exchange=node_exchange(), node_url=settings.NODE_PUBLIC_URL)
        user = operator_ensure(exchange=exchange, username=operator)
        if products and not Product.objects.filter(exchange=exchange).exists():
            rng = random.Random(exchange.order)
            items = [(i + 1, descriptor(rng)) for i in range(products)]
            # Products need registered providers: the sample providers become verified data merchants here.
            registered = providers_register_verified(
                [(d["provider"]["uscc"], d["provider"]["name"]) for _, d in items], reason="demo seed"
            )
            self.stderr.write(f"registered {registered} sample data merchants at {exchange.code}")
            results = product_import_batch(actor=user, items=items, status=ProductStatus.LISTED)
            listed = sum(r.accepted for r in results)
            self.stderr.write(f"listed {listed} sample products at {exchange.code}")
        self.stdout.write(api_token_issue(user=user, name="demo"))
