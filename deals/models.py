"""Deals (交易): an order and the steps that follow it, each a record written once by its owner.

A `Deal` is owned by the node where the order was placed; each `DealStep` by the home node of whoever took
it (the buyer's, the provider's, or the coordinating exchange's). Both are private records: only the nodes of
the deal's audience hold them. The deal's state is derived from its steps (`standards.deal_flow.derive`);
`state` and `offer_version` here are this node's cache of that derivation, for filters, never replicated.
"""

from django.db import models

from core.fields import JSONField
from standards.deal_flow import STATES
from standards.deal_steps import KINDS, ROLES


class Deal(models.Model):
    gid = models.CharField(max_length=48, help_text="Global id: <origin>-<32 hex digits>.")
    origin = models.CharField(max_length=8, help_text="The node where the order was placed (owns it).")
    version = models.PositiveIntegerField(default=1)
    product_code = models.CharField(max_length=40)
    product_version = models.PositiveIntegerField()
    product_exchange = models.CharField(
        max_length=8, help_text="The product's home: the coordinating exchange."
    )
    product_name = models.CharField(max_length=120)
    provider_id = models.CharField(max_length=18)
    provider_home = models.CharField(max_length=8)
    provider_name = models.CharField(max_length=120)
    buyer_id = models.CharField(max_length=18)
    buyer_home = models.CharField(max_length=8, help_text="The buyer's home: the co-coordinating exchange.")
    buyer_name = models.CharField(max_length=120)
    placed_at = models.DateTimeField()
    request = JSONField(
        default=dict, help_text="Purpose, usage policy asked for, territory, duration, method."
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Local: this node's derivation of the steps it holds (recomputed whenever one is written or arrives).
    state = models.CharField(max_length=20, choices=[(s, s) for s in STATES], default="ordered")
    offer_version = models.PositiveIntegerField(default=0)
    # Local, kept with the state for /stats/deals/ (deals.stats, deals.figures): when this node's derivation
    # first reached agreed, delivered and accepted (the steps' times), the seconds from the order to the
    # contract and from the contract to the accepted delivery (medians walk their indexes), the agreed
    # offer's price (in cents: exact sums on every database) and currency, and the delivery deadline. Never
    # replicated: every node of the audience derives the same values from the same steps.
    agreed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    order_to_contract_s = models.FloatField(null=True, blank=True)
    contract_to_acceptance_s = models.FloatField(null=True, blank=True)
    delivery_by = models.DateTimeField(null=True, blank=True)
    price_cents = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    # Local, kept by deals.dispute_followups: whether this node holds a dispute of the deal (its `Dispute`
    # row), so the stats count the disputed deals in the same index-only scan as the other figures.
    disputed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["gid"], name="deal_gid_unique")]
        indexes = [
            models.Index(fields=["buyer_id", "-id"], name="deal_buyer"),
            models.Index(fields=["provider_id", "-id"], name="deal_provider"),
            models.Index(fields=["state"], name="deal_state"),
            # /stats/deals/ reads its figures from indexes, not from the wide rows (index-only scans; every
            # column a key, so SQLite covers with them too): the counts grouped by state and currency,
            models.Index(
                fields=[
                    "state",
                    "currency",
                    "product_exchange",
                    "buyer_home",
                    "agreed_at",
                    "delivered_at",
                    "accepted_at",
                    "delivery_by",
                    "price_cents",
                    "disputed",
                ],
                name="deal_figures",
            ),
            # and each median, an ordered walk to the middle (the per-exchange filter's columns included).
            *(
                models.Index(
                    fields=[column, "product_exchange", "buyer_home"],
                    condition=models.Q(**{f"{column}__isnull": False}),
                    name=f"deal_{column.removesuffix('_s')}",
                )
                for column in ("order_to_contract_s", "contract_to_acceptance_s")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gid} {self.product_code}"

    @property
    def audience(self) -> list[str]:
        return sorted({self.origin, self.buyer_home, self.provider_home, self.product_exchange})


class DealStep(models.Model):
    """One step of a deal, written once (never updated) by the node that owns it."""

    gid = models.CharField(max_length=48)
    origin = models.CharField(max_length=8, help_text="The home node of whoever took the step.")
    version = models.PositiveIntegerField(default=1)
    deal_gid = models.CharField(max_length=48)
    audience = JSONField(
        default=list, help_text="The deal's audience, carried so a step arriving first knows it."
    )
    seq = models.PositiveIntegerField(help_text="One more than the steps its writer held for the deal.")
    kind = models.CharField(max_length=12, choices=[(k, k) for k in KINDS])
    role = models.CharField(max_length=12, choices=[(r, r) for r in ROLES])
    actor_id = models.CharField(max_length=18, help_text="The party's USCC, or the coordinator's code.")
    at = models.DateTimeField()
    offer_version = models.PositiveIntegerField(null=True, blank=True)
    body = JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seq", "id"]
        constraints = [models.UniqueConstraint(fields=["gid"], name="deal_step_gid_unique")]
        indexes = [models.Index(fields=["deal_gid", "seq"], name="deal_step_deal")]

    def __str__(self) -> str:
        return f"{self.deal_gid} #{self.seq} {self.kind}"


class ExchangeTerms(models.Model):
    """An exchange's fee rates (basis points), set by its operators and replicated to every node."""

    exchange_code = models.CharField(max_length=8, unique=True)
    version = models.PositiveIntegerField(default=1)
    listing_fee_bp = models.PositiveIntegerField(help_text="Fee on deals for products it lists.")
    buyer_fee_bp = models.PositiveIntegerField(help_text="Fee on deals whose buyer it brought.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.exchange_code} {self.listing_fee_bp}/{self.buyer_fee_bp} bp"


class DisputeStep(models.Model):
    """One step of a deal's dispute (纠纷协调), written once (never updated) by the home node of whoever took
    it: the buyer's, the provider's, the coordinating exchange's (the product's home) or the co-coordinating
    exchange's (the buyer's home). A dispute is identified by the gid of its `file` step."""

    gid = models.CharField(max_length=48)
    origin = models.CharField(max_length=8, help_text="The home node of whoever took the step.")
    version = models.PositiveIntegerField(default=1)
    deal_gid = models.CharField(max_length=48)
    dispute_gid = models.CharField(max_length=48, help_text="The gid of the dispute's `file` step.")
    audience = JSONField(default=list, help_text="The deal's audience.")
    action = models.CharField(max_length=12)
    role = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=18, help_text="The party's USCC, or the exchange's code.")
    at = models.DateTimeField()
    body = JSONField(default=dict, help_text="The action's own fields (standards.deal_dispute_steps).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "gid"]
        constraints = [models.UniqueConstraint(fields=["gid"], name="dispute_step_gid_unique")]
        indexes = [models.Index(fields=["dispute_gid", "at"], name="dispute_step_dispute")]

    def __str__(self) -> str:
        return f"{self.dispute_gid} {self.action}"


class Dispute(models.Model):
    """This node's cache of a dispute's derivation (standards.deal_disputes.dispute_derive) from the steps it
    holds, for filters and figures only: recomputed whenever one of its steps is written or arrives. Never
    replicated; the steps are the record."""

    gid = models.CharField(max_length=48, unique=True, help_text="The gid of its `file` step.")
    deal_gid = models.CharField(max_length=48)
    coordinator = models.CharField(max_length=8, help_text="The product's home exchange.")
    co_coordinator = models.CharField(max_length=8, help_text="The buyer's home exchange.")
    state = models.CharField(max_length=12)
    category = models.CharField(max_length=20)
    filed_by = models.CharField(max_length=12)
    filed_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(
        null=True, blank=True, help_text="The coordinator's current deadline while open: overdue after it."
    )
    refund_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    resolution_s = models.FloatField(
        null=True, blank=True, help_text="Resolved: the seconds from its filing to its resolution (stats)."
    )

    class Meta:
        ordering = ["-filed_at", "-id"]
        indexes = [
            models.Index(fields=["deal_gid"], name="dispute_deal"),
            # /stats/deals/: the median resolution time, an ordered walk to the middle (as the deals').
            models.Index(
                fields=["resolution_s", "coordinator", "co_coordinator"],
                condition=models.Q(resolution_s__isnull=False),
                name="dispute_resolution",
            ),
            models.Index(fields=["coordinator", "state"], name="dispute_coordinator"),
            models.Index(fields=["co_coordinator", "state"], name="dispute_co_coordinator"),
        ]

    def __str__(self) -> str:
        return f"{self.gid} {self.state}"
