"""Recognitions at national size, step 3 (docs/federation.md): once every node is on recognition protocol 2,
the records published under protocol 1 that every node computes leave the replicas and the compacted logs
(`manage.py recognitions_compact`), reads stay the same, and anti-entropy's digests agree whether a node has
compacted or not."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.exceptions import Conflict
from federation.models import Entry, Peer
from federation.selectors import digests
from products.compaction import recognitions_compact
from products.models import Recognition
from tests.test_federation_apply import ORIGIN, bjidx_key  # noqa: F401
from tests.test_recognition_computed import Network, _by_verdict, _read

pytestmark = pytest.mark.django_db
ORIGINS = ("SHDEX", ORIGIN, "GYBDX")


@pytest.fixture
def network(bjidx_key):  # noqa: F811
    return Network(bjidx_key)


def _digests() -> dict:
    """As two nodes on recognition protocol 2 compare them (the versions the pair agrees on)."""
    agreed = {"recognition": 2}
    return {
        origin: digests(origin=origin, fresh=True, agreed=agreed).get("recognition") for origin in ORIGINS
    }


def test_the_records_every_node_computes_leave_and_reads_and_digests_stay(network, anon):
    codes = [network.list(n, d) for n, d in enumerate(_by_verdict().values(), start=1)]  # protocol 1: all
    network.decide("GYBDX", 3, "recognised", [], "operator", version=2)  # an exception: it stays
    assert Recognition.objects.count() == 9 and Entry.objects.filter(record_type="recognition").count() == 9
    with pytest.raises(Conflict):  # the peers have not announced protocol 2
        recognitions_compact()
    before = _read(anon, codes)

    Peer.objects.update(protocols={"recognition": 2})
    agreed = _digests()
    assert agreed["GYBDX"]["count"] == 1 and agreed[ORIGIN]["count"] == 0 and agreed["SHDEX"]["count"] == 0
    counts = recognitions_compact(chunk=4)  # several chunks
    assert counts == {"examined": 9, "own_unlogged": 3, "peers_dropped": 5, "entries_deleted": 8}
    held = sorted(Recognition.objects.values_list("exchange_id", "decided_by"))
    assert held == [("GYBDX", "operator"), *[("SHDEX", "auto")] * 3]
    assert list(Entry.objects.filter(record_type="recognition").values_list("gid", flat=True)) == [
        f"{codes[2]}@GYBDX"
    ]
    assert _read(anon, codes) == before  # computed where records were
    assert _digests() == agreed  # a node that compacted and one that did not agree

    out = StringIO()
    call_command("recognitions_compact", stdout=out)  # idempotent
    assert json.loads(out.getvalue()) == {
        "examined": 4,
        "own_unlogged": 0,
        "peers_dropped": 0,
        "entries_deleted": 0,
    }


def test_the_command_refuses_before_every_peer_announces_protocol_2(network):
    with pytest.raises(CommandError, match="protocol 2"):
        call_command("recognitions_compact")
