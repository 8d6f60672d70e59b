"""Participants registered once at their home exchange (一地注册，全国互信), and the evaluations about them.

A participant's global id is its Unified Social Credit Code (normalised), the same at every node, so a
second registration of one company is a key collision anywhere in the network. Each registration is owned
by its home exchange's node; two homes registering one USCC at nearly the same time both exist for a while,
and every node picks the same winner (`participants.identity`).

Public profile columns replicate; `ParticipantPrivate` (contacts, phone, email, documents) never leaves the
home node.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.fields import JSONField


class ParticipantStatus(models.TextChoices):
    PENDING = "pending", "待审核 Pending"
    VERIFIED = "verified", "已核验 Verified"
    SUSPENDED = "suspended", "已暂停 Suspended"
    REVOKED = "revoked", "已撤销 Revoked"


class Participant(models.Model):
    """One registration of a participant at its home exchange (a replica at every other node)."""

    participant_id = models.CharField(max_length=18, help_text="Global id: the normalised USCC.")
    home = models.ForeignKey(
        "exchanges.Exchange", on_delete=models.PROTECT, related_name="participants", db_index=False
    )
    is_home = models.BooleanField(default=True, help_text="This node is the registration's home.")
    version = models.PositiveIntegerField(default=1)
    legal_name = models.CharField(max_length=120)
    entity_type = models.CharField(max_length=24)
    region = models.CharField(max_length=6, help_text="GB/T 2260 code from the USCC's region part.")
    roles = JSONField(default=list)
    business_categories = JSONField(default=list, blank=True)
    services = JSONField(default=list, blank=True)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=12, choices=ParticipantStatus.choices, default=ParticipantStatus.PENDING
    )
    status_reason = models.CharField(max_length=500, blank=True)
    registered_at = models.DateTimeField(help_text="When the home node registered it (decides duplicates).")
    verified_at = models.DateTimeField(null=True, blank=True)
    # Computed at every node from the registrations it holds, never replicated: the home exchange of the
    # registration that stands for the USCC, when this one does not.
    duplicate_of = models.CharField(max_length=8, blank=True, default="")
    # Local, never replicated: when this node first held this registration (a peer's claimed registered_at
    # counts at most PARTICIPANT_CLOCK_SKEW earlier than that), and since when it stands here for its USCC.
    first_seen_at = models.DateTimeField(null=True, blank=True)
    standing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["participant_id", "home"], name="participant_registration"),
            models.CheckConstraint(condition=Q(version__gte=1), name="participant_version_positive"),
        ]
        indexes = [
            models.Index(fields=["home", "status"], name="participant_home_status"),
            models.Index(fields=["status", "region"], name="participant_status_region"),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id}@{self.home_id} {self.legal_name}"

    @property
    def is_duplicate(self) -> bool:
        return bool(self.duplicate_of)

    @property
    def in_good_standing(self) -> bool:
        return self.status == ParticipantStatus.VERIFIED and not self.duplicate_of

    def has_role(self, role: str) -> bool:
        return role in (self.roles or [])


class ParticipantPrivate(models.Model):
    """What stays at the home node: contact persons, phone, email and documents. Never in a payload or in a
    response to anyone but the participant itself and its home exchange's operators."""

    participant = models.OneToOneField(Participant, on_delete=models.CASCADE, related_name="private")
    contacts = JSONField(default=list, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    documents = JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"private of {self.participant_id}"


class StatusChange(models.Model):
    """The verification history of a registration (home node only): who changed it, when and why."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12)
    to_status = models.CharField(max_length=12)
    reason = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.participant_id}: {self.from_status} → {self.to_status}"


class ParticipantRecognition(models.Model):
    """Whether one exchange recognises one participant. Owned by the recognising node, replicated."""

    class Status(models.TextChoices):
        RECOGNISED = "recognised", "已互认 Recognised"
        NOT_RECOGNISED = "not_recognised", "未互认 Not recognised"

    participant_id = models.CharField(max_length=18)
    home = models.CharField(max_length=8, help_text="Home exchange of the registration recognised.")
    exchange = models.ForeignKey(
        "exchanges.Exchange", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    reasons = JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    published = models.BooleanField(
        default=True,
        db_default=True,
        help_text=(
            "In the change log: every record held from a peer; of this node's own, those it published "
            "(participant recognition protocol 2 publishes only exceptions: participants.verdicts). Once "
            "published, always published, so peers hold its latest."
        ),
    )

    computed = False  # a record of the exchange (participants.verdicts.ParticipantVerdict: computed here)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant_id", "exchange"], name="participant_recognition_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.exchange_id} {self.status} {self.participant_id}"

    @property
    def gid(self) -> str:
        return f"{self.participant_id}@{self.exchange_id}"


class EvaluationStatus(models.TextChoices):
    ACTIVE = "active", "有效 Active"
    REVOKED = "revoked", "已撤销 Revoked"


class Evaluation(models.Model):
    """An evaluation (评估评价) of a participant, issued by an exchange or a third-party service provider.
    Owned by the node where it was issued; replicated everywhere."""

    class IssuerType(models.TextChoices):
        EXCHANGE = "exchange", "交易所 Exchange"
        PARTICIPANT = "participant", "第三方专业服务机构 Service provider"

    gid = models.CharField(max_length=40, help_text="Global id: <origin>-<uuid hex>.")
    origin = models.CharField(max_length=8, help_text="The node where it was issued (owns it).")
    subject_id = models.CharField(max_length=18, help_text="Participant id evaluated.")
    dimension = models.CharField(max_length=16)
    score = models.PositiveSmallIntegerField()
    grade = models.CharField(max_length=4)
    valid_from = models.DateField()
    valid_until = models.DateField()
    summary = models.TextField()
    evidence_ref = models.CharField(max_length=200, blank=True)
    issuer_type = models.CharField(max_length=12, choices=IssuerType.choices)
    issuer_id = models.CharField(max_length=18, help_text="Exchange code or participant id.")
    issuer_name = models.CharField(max_length=120)
    status = models.CharField(max_length=8, choices=EvaluationStatus.choices, default=EvaluationStatus.ACTIVE)
    revoked_reason = models.CharField(max_length=500, blank=True)
    issued_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["gid"], name="evaluation_gid_unique"),
            models.CheckConstraint(condition=Q(score__lte=100), name="evaluation_score_range"),
            models.CheckConstraint(
                condition=Q(valid_from__lte=models.F("valid_until")), name="evaluation_validity"
            ),
        ]
        indexes = [
            models.Index(fields=["subject_id", "status", "valid_until"], name="evaluation_subject"),
            models.Index(fields=["issuer_id"], name="evaluation_issuer"),
        ]

    def __str__(self) -> str:
        return f"{self.gid} {self.subject_id} {self.dimension} {self.grade}"


class RegistrationConflict(models.Model):
    """Two registrations of one USCC that this node did not settle by the rule alone, for its operators to
    decide (a peer's claim is evidence, not truth): a registration that would have displaced a verified one
    standing here (it was kept), a claimed registration time far earlier than when this node first saw it (it
    was ranked by its arrival), or this exchange's own registration displaced by another exchange's. Local to
    this node, never replicated."""

    class Reason(models.TextChoices):
        VERIFIED_DISPLACEMENT = "verified_displacement", "会取代已核验的登记 Would displace a verified one"
        BACKDATED = "backdated", "声称的登记时间过早 Claims a time before this node saw it"
        HOME_DISPLACED = "home_displaced", "本交易所的登记被取代 This exchange's registration displaced"

    class Decision(models.TextChoices):
        OPEN = "open", "待处理 Open"
        KEEP = "keep", "保留原登记 The registration that stood stands"
        REPLACE = "replace", "采用新登记 The challenger stands"
        MOOT = "moot", "已失效（登记撤销或节点移除） Moot: a registration was revoked or its node removed"

    participant_id = models.CharField(max_length=18)
    reason = models.CharField(max_length=24, choices=Reason.choices)
    standing_home = models.CharField(max_length=8, help_text="The registration that stood when it arose.")
    challenger_home = models.CharField(max_length=8, help_text="The registration that would have stood.")
    standing_registered_at = models.DateTimeField()
    challenger_registered_at = models.DateTimeField(help_text="As its home claims it.")
    challenger_first_seen_at = models.DateTimeField(null=True, blank=True)
    detected_at = models.DateTimeField(auto_now_add=True)
    decision = models.CharField(max_length=8, choices=Decision.choices, default=Decision.OPEN)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant_id", "standing_home", "challenger_home", "reason"],
                condition=Q(decision="open"),
                name="registration_conflict_open_once",
            )
        ]
        indexes = [models.Index(fields=["participant_id", "decision"], name="registration_conflict_pid")]

    def __str__(self) -> str:
        return f"{self.participant_id}: {self.standing_home} vs {self.challenger_home} ({self.reason})"
