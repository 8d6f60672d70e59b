"""Federation state, all as database rows: peers, the signed change log, sync cursors, wake-up deliveries."""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from core.fields import LargeTextField


class Peer(models.Model):
    """Another exchange's node: where it is and the key its signatures must verify with."""

    exchange = models.OneToOneField(
        "exchanges.Exchange", on_delete=models.PROTECT, primary_key=True, related_name="peer"
    )
    base_url = models.URLField()
    public_key = models.CharField(max_length=64, help_text="Base64 of the 32-byte Ed25519 public key.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Health: a peer that keeps failing is backed off, not hammered.
    consecutive_failures = models.PositiveIntegerField(default=0)
    backoff_until = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # What the peer last announced of its standards (standards.versions: {"versions", "sha256"}), read from
    # its anti-entropy answer; null until then, and for a node on code that announces none.
    standards = models.JSONField(null=True, blank=True)
    standards_at = models.DateTimeField(null=True, blank=True)
    # What the peer last announced of its protocol versions (federation.protocols: {name: version}), read from
    # its anti-entropy answer; null until then, and for a node on code that announces none.
    protocols = models.JSONField(null=True, blank=True)
    protocols_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["exchange_id"]

    def __str__(self) -> str:
        return f"{self.exchange_id} {self.base_url}"

    @property
    def code(self) -> str:
        return self.exchange_id


class Entry(models.Model):
    """The compacted change log: the latest signed entry of every record of every origin this node knows.

    `body` is the RFC 8785 canonical JSON of the signed envelope {origin, seq, type, gid, version, payload},
    exactly the bytes the origin signed, so a node relays another origin's entries unchanged.
    """

    origin = models.CharField(max_length=8)
    seq = models.PositiveBigIntegerField()
    record_type = models.CharField(max_length=32)
    gid = models.CharField(max_length=96)
    version = models.PositiveIntegerField()
    body = LargeTextField()
    signature = models.CharField(max_length=100)
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["origin", "seq"], name="entry_origin_seq"),
            models.UniqueConstraint(fields=["origin", "record_type", "gid"], name="entry_origin_record"),
        ]

    def __str__(self) -> str:
        return f"{self.origin}#{self.seq} {self.record_type} {self.gid} v{self.version}"


# An entry row as `core.bulk.copy_rows` writes it (the apply and publish paths).
ENTRY_COLUMNS = ("origin", "seq", "record_type", "gid", "version", "body", "signature", "recorded_at")


class OriginCounter(models.Model):
    """This node's last sequence number. Locked at the end of every publishing transaction, so sequence
    numbers become visible in order: a transaction holding n+1 commits after the one holding n."""

    origin = models.CharField(max_length=8, primary_key=True)
    last_seq = models.PositiveBigIntegerField(default=0)
    wake_queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When a wake-up task was queued that has not started yet."
    )

    def __str__(self) -> str:
        return f"{self.origin}: {self.last_seq}"


class SyncState(models.Model):
    """How far this node has applied each other origin's log, and the pull that moves it forward."""

    class State(models.TextChoices):
        IDLE = "idle"
        PENDING = "pending"
        RUNNING = "running"

    origin = models.CharField(max_length=8, primary_key=True)
    cursor = models.PositiveBigIntegerField(default=0, help_text="Highest sequence number applied.")
    head_seen = models.PositiveBigIntegerField(default=0, help_text="Highest sequence number announced.")
    head_seen_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.IDLE)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_source = models.CharField(max_length=8, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When a pull task was put on the queue and has not started yet."
    )
    # Counters for the metrics (federation.metrics), kept here so that a scrape of any web process sees what
    # every worker did: pulls that ended, by outcome, the seconds they took and the entries they applied.
    pulls_ok = models.PositiveBigIntegerField(default=0)
    pulls_failed = models.PositiveBigIntegerField(default=0)
    pull_seconds = models.FloatField(default=0.0)
    pulled_entries = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.origin} @ {self.cursor}/{self.head_seen} {self.state}"


class Wakeup(models.Model):
    """A pending "origin X is at seq n" message to one peer; one row per (peer, origin), coalesced."""

    class State(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        DONE = "done"
        FAILED = "failed"

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="wakeups")
    origin = models.CharField(max_length=8)
    seq = models.PositiveBigIntegerField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The last seq announced to the peer with the private entries of its audience up to it pushed along
    # (federation.private_push): the next wake-up pushes only what came after.
    pushed_seq = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["peer", "origin"], name="wakeup_peer_origin")]
        indexes = [models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="wakeup_due")]

    def __str__(self) -> str:
        return f"wake {self.peer_id}: {self.origin}@{self.seq} {self.state}"


class QuarantinedEntry(models.Model):
    """An entry that failed verification or validation: kept with its reason, never applied. One row per case
    (`digest`): the same refused entry again, from the same source at any seq, raises `count` and
    `last_seen`. Bounded per source (`federation.quarantine`): beyond the bounds `raw` is empty, or no row is
    written and the entry is counted in `QuarantineOverflow`."""

    origin = models.CharField(max_length=8)
    seq = models.PositiveBigIntegerField(help_text="Where the case was first seen.")
    source = models.CharField(max_length=8, help_text="The peer it came from.")
    record_type = models.CharField(max_length=32, blank=True)
    gid = models.CharField(max_length=96, blank=True)
    reason = models.TextField()
    raw = models.TextField(blank=True, help_text="The entry as received (JSON); empty beyond the bounds.")
    raw_bytes = models.PositiveIntegerField(default=0, help_text="UTF-8 bytes of raw: what the bound counts.")
    digest = models.CharField(
        max_length=64,
        help_text="SHA-256 (hex) of the reason and the refused item without its seq and signature; "
        "legacy:<id> for a row quarantined before digests.",
    )
    count = models.PositiveBigIntegerField(default=1, help_text="How many times it was refused.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "quarantined entries"
        ordering = ["-id"]
        constraints = [
            # The repeat lookup; its leading column also serves the per-source bound's count.
            models.UniqueConstraint(fields=["source", "origin", "digest"], name="quarantine_case"),
        ]
        indexes = [models.Index(fields=["origin", "seq"], name="quarantine_origin_seq")]

    def __str__(self) -> str:
        return f"{self.origin}#{self.seq}: {self.reason[:60]}"


class QuarantineOverflow(models.Model):
    """Entries from one source refused beyond its quarantine bounds (their raw body, or any row, not kept):
    counted here, shown by `sync_status()` and logged at ERROR once per alert interval
    (FEDERATION["QUARANTINE_ALERT_INTERVAL"]). Deleted by the operator once handled (docs/operations.md)."""

    source = models.CharField(max_length=8, primary_key=True)
    entries = models.PositiveBigIntegerField(default=0)
    first_at = models.DateTimeField(default=timezone.now)
    last_at = models.DateTimeField(default=timezone.now)
    logged_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.source}: {self.entries} beyond the quarantine bounds"


class PrivateEntry(models.Model):
    """The full signed entry of a record with an audience (e.g. a response to a demand). It is never in the
    public log: the log carries a signed "sealed" stub naming the record and its audience, and the nodes of
    the audience fetch this from a node that holds it, which serves it only to them."""

    origin = models.CharField(max_length=8)
    seq = models.PositiveBigIntegerField()
    record_type = models.CharField(max_length=32)
    gid = models.CharField(max_length=96)
    version = models.PositiveIntegerField()
    audience = models.JSONField(default=list)
    body = LargeTextField()
    signature = models.CharField(max_length=100)
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["origin", "record_type", "gid"], name="private_entry_record"),
        ]
        indexes = [models.Index(fields=["origin", "seq"], name="private_entry_seq")]  # what a wake-up pushes

    def __str__(self) -> str:
        return f"{self.origin}#{self.seq} {self.record_type} {self.gid} v{self.version} (private)"


class PrivateFetch(models.Model):
    """A private record this node is in the audience of and has not got yet: fetched with retries."""

    class State(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"

    origin = models.CharField(max_length=8)
    record_type = models.CharField(max_length=32)
    gid = models.CharField(max_length=96)
    version = models.PositiveIntegerField()
    audience = models.JSONField(default=list)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "private fetches"
        constraints = [
            models.UniqueConstraint(fields=["origin", "record_type", "gid"], name="private_fetch_record"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="private_fetch_due")
        ]

    def __str__(self) -> str:
        return f"fetch {self.origin} {self.record_type} {self.gid} v{self.version} {self.state}"


def at_least(field: str, value: int) -> Greatest:
    """`field` raised to `value` if it is lower, in one UPDATE (never lowered by a late writer)."""
    return Greatest(F(field), value)


class ReadGeneration(models.Model):
    """One row: changes to what anonymous readers see that the change log's counters do not count (a repair
    of a record at an equal version, the exchange directory following a peer, quality reports expiring).
    `federation.generation` adds it to the log's counters: the generation of the public read cache."""

    value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"read generation {self.value}"
