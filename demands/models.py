"""Demands posted at one exchange and answered nationwide (一地提出，全国响应).

A demand is owned by the node where it was posted (its origin) and replicates to every node in its reach.
Matching runs at every node against the listed products it holds; a provider is notified by the node where it
is registered (its home), once per demand version.
"""

from django.db import models
from django.db.models import Q

from core.fields import JSONField


class DemandStatus(models.TextChoices):
    OPEN = "open", "征集中 Open"
    WITHDRAWN = "withdrawn", "已撤回 Withdrawn"
    CLOSED = "closed", "已关闭 Closed"
    EXPIRED = "expired", "已过期 Expired"


class Demand(models.Model):
    gid = models.CharField(max_length=48, help_text="Global id: <origin>-<32 hex digits>.")
    origin = models.CharField(max_length=8, help_text="The node where it was posted (owns it).")
    version = models.PositiveIntegerField(default=1)
    demander_id = models.CharField(max_length=18, help_text="Participant id of the demander.")
    demander_home = models.CharField(max_length=8)
    demander_name = models.CharField(max_length=120)
    title = models.CharField(max_length=80)
    description = models.TextField()
    industry = models.CharField(max_length=1, blank=True)
    product_forms = JSONField(default=list)
    spatial_coverage = JSONField(default=list)
    temporal_start = models.DateField(null=True, blank=True)
    temporal_end = models.DateField(null=True, blank=True)
    update_frequency = models.CharField(max_length=16, blank=True)
    budget_min = models.DecimalField(max_digits=14, decimal_places=2)
    budget_max = models.DecimalField(max_digits=14, decimal_places=2)
    deadline = models.DateTimeField()
    delivery_methods = JSONField(default=list, blank=True)
    compliance_requirements = JSONField(default=list, blank=True)
    reach = JSONField(default=list, blank=True, help_text="Exchange codes; empty: the whole network.")
    status = models.CharField(max_length=10, choices=DemandStatus.choices, default=DemandStatus.OPEN)
    status_reason = models.CharField(max_length=500, blank=True)
    posted_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    search_text = models.TextField(default="", editable=False, help_text="Segmented title and description.")
    updated_at = models.DateTimeField(auto_now=True)
    # Local bookkeeping, never replicated: when this node first found a match for it, and for which version
    # it has notified the providers registered here.
    first_matched_at = models.DateTimeField(null=True, blank=True)
    notified_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["gid"], name="demand_gid_unique"),
            models.CheckConstraint(condition=Q(budget_min__lte=models.F("budget_max")), name="demand_budget"),
        ]
        indexes = [
            models.Index(fields=["status", "deadline"], name="demand_status_deadline"),
            models.Index(fields=["demander_id"], name="demand_demander"),
            models.Index(fields=["origin", "status"], name="demand_origin_status"),
        ]

    def __str__(self) -> str:
        return f"{self.gid} {self.title}"


class Notification(models.Model):
    """Something a participant registered at this node should know, in the API and by webhook: a demand
    matching its products, or a demand it responded to being closed; a deal waiting for its step. One per
    (participant, kind, demand, demand version)."""

    class Kind(models.TextChoices):
        MATCH = "match", "需求匹配 Demand matches your products"
        CLOSED = "demand_closed", "需求已关闭 A demand you responded to was closed"
        RESPONSE = "response", "收到响应 A response to your demand"
        # A deal waits for the participant's step (deals.followups): `demand_gid` holds the deal's id and
        # `demand_version` the number of steps the flow had taken, so each new turn notifies once.
        DEAL = "deal", "交易待办 A deal waits for your step"

    participant_id = models.CharField(max_length=18)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    demand_gid = models.CharField(max_length=48)
    demand_version = models.PositiveIntegerField()
    subject_gid = models.CharField(max_length=48, blank=True, default="", help_text="A response's id.")
    payload = JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant_id", "kind", "demand_gid", "demand_version", "subject_gid"],
                name="notification_once",
            )
        ]
        indexes = [models.Index(fields=["participant_id", "-id"], name="notification_participant")]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.kind} {self.demand_gid} v{self.demand_version}"


class WebhookSubscription(models.Model):
    """A participant's endpoint for notifications, at its home node. Deliveries are signed with HMAC-SHA256
    using `secret`, which is shown once when the subscription is made."""

    participant_id = models.CharField(max_length=18)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=64)
    active = models.BooleanField(default=True)
    allow_private_network = models.BooleanField(
        default=False, help_text="Set by an operator: the URL may point at a private or loopback address."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["participant_id"], name="webhook_participant")]

    def __str__(self) -> str:
        return f"{self.participant_id} → {self.url}"


class WebhookDelivery(models.Model):
    """One notification to one subscription: state, attempts and backoff, and the log of the last try."""

    class State(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        DELIVERED = "delivered"
        FAILED = "failed"

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notification", "subscription"], name="delivery_once"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="delivery_due"),
            # The few deliveries not delivered, which the metrics count on every scrape (demands.metrics).
            models.Index(fields=["state"], condition=~Q(state="delivered"), name="delivery_open"),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id} → {self.subscription_id} {self.state}"


class ResponseStatus(models.TextChoices):
    SUBMITTED = "submitted", "已提交 Submitted"
    WITHDRAWN = "withdrawn", "已撤回 Withdrawn"


class DecisionStatus(models.TextChoices):
    NONE = "", "未处理 Not decided"
    SHORTLISTED = "shortlisted", "入围 Shortlisted"
    ACCEPTED = "accepted", "已接受 Accepted"
    DECLINED = "declined", "已拒绝 Declined"


class DemandResponse(models.Model):
    """A supplier's response to a demand: an offer of listed products or a proposal. Owned by the node where
    the supplier made it; private to the demander, the responder and their exchanges, so it replicates only
    to the nodes of its audience (see federation.private)."""

    class Kind(models.TextChoices):
        OFFER = "offer", "产品报价 Offer of listed products"
        PROPOSAL = "proposal", "定制方案 Proposal"

    gid = models.CharField(max_length=48)
    origin = models.CharField(max_length=8)
    version = models.PositiveIntegerField(default=1)
    demand_gid = models.CharField(max_length=48)
    demand_origin = models.CharField(max_length=8)
    demander_id = models.CharField(max_length=18)
    demander_home = models.CharField(max_length=8)
    responder_id = models.CharField(max_length=18)
    responder_home = models.CharField(max_length=8)
    responder_name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    products = JSONField(default=list, blank=True)
    proposal = models.TextField(blank=True)
    price = models.DecimalField(max_digits=14, decimal_places=2)
    delivery_days = models.PositiveIntegerField()
    message = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=ResponseStatus.choices, default=ResponseStatus.SUBMITTED)
    created_at = models.DateTimeField()
    # The demander's decision, owned by the demand's origin node (a record of its own, same audience).
    decision = models.CharField(max_length=12, choices=DecisionStatus.choices, blank=True, default="")
    decision_version = models.PositiveIntegerField(default=0)
    decision_reason = models.CharField(max_length=500, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["gid"], name="response_gid_unique")]
        indexes = [
            models.Index(fields=["demand_gid"], name="response_demand"),
            models.Index(fields=["responder_id"], name="response_responder"),
        ]

    def __str__(self) -> str:
        return f"{self.gid} → {self.demand_gid}"

    @property
    def audience(self) -> list[str]:
        return sorted({self.origin, self.demand_origin, self.demander_home, self.responder_home})
