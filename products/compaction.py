"""Recognition protocol 2's clean-up (docs/federation.md, "Recognitions at national size"): the recognitions
published under protocol 1 that every node now computes itself — home listings' and automatic verdicts equal
to the check — leave the compacted logs and the replicas. Run at every node once this node and all its peers
announce protocol 2 (`manage.py recognitions_compact`); idempotent, in chunks of one transaction each.

Two nodes that both announce protocol 2 compare only the exceptions in anti-entropy (`RecognitionReplica.
live_rows` under the versions the pair agrees on), so nodes that ran it and nodes that did not yet agree."""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.db import transaction

from core.exceptions import Conflict
from federation.generation import generation_bump
from federation.models import Entry
from federation.protocols import protocol_everywhere
from products.models import Recognition
from products.published import recognitions_exceptions


def recognitions_compact(*, chunk: int = 2000) -> dict[str, int]:
    """Drop the recognitions the network computes: other exchanges' records and their relayed log entries
    are deleted; this node's own stay in its table (its operators' queue reads them) but leave its log —
    those at version 1 only: a later version may have superseded an exception that a lagging peer still
    holds, and it needs the entry. They stay `published` (they were): a peer that has not compacted yet
    holds them, so their next change is published and replaces its copy. Returns the counts."""
    if not protocol_everywhere("recognition", 2):
        raise Conflict(
            message="本节点或其对等节点尚未全部采用互认协议 2",
            message_en="This node and all its peers must announce recognition protocol 2 first",
            code="recognition_protocol",
        )
    node = settings.NODE_CODE
    counts = {"examined": 0, "own_unlogged": 0, "peers_dropped": 0, "entries_deleted": 0}
    last = 0
    while True:
        with transaction.atomic():
            rows = list(Recognition.objects.filter(pk__gt=last).order_by("pk")[:chunk])
            if not rows:
                break
            last = rows[-1].pk
            counts["examined"] += len(rows)
            kept = {r.pk for r in recognitions_exceptions(rows)}
            own = [
                r
                for r in rows
                if r.pk not in kept and r.exchange_id == node and r.published and r.version == 1
            ]
            others = [r for r in rows if r.pk not in kept and r.exchange_id != node]
            Recognition.objects.filter(pk__in=[r.pk for r in others]).delete()
            gids: dict[str, list[str]] = defaultdict(list)
            for r in (*own, *others):
                gids[r.exchange_id].append(r.gid)
            for origin, names in gids.items():
                entries = Entry.objects.filter(origin=origin, record_type="recognition", gid__in=names)
                deleted, _ = entries.delete()
                counts["entries_deleted"] += deleted
                counts["own_unlogged"] += deleted if origin == node else 0
            counts["peers_dropped"] += len(others)
    if counts["peers_dropped"]:
        generation_bump()  # product pages show computed verdicts where records were
    return counts
