"""Imports that scale (docs/performance.md, "A million products"): providers registered from a stream in
batches, statistics taken as the tables grow during a long load."""

import json

import pytest
from django.db import connection

from core import statistics
from federation.models import Entry
from participants import services as participant_services
from participants.models import Participant, ParticipantStatus
from products import importing
from products.importing import import_stream
from products.models import Product
from products.sample_data import descriptors
from tests.factories import register_provider

pytestmark = pytest.mark.django_db


def _providers(count: int, seed: int = 5):
    return [(d["provider"]["uscc"], d["provider"]["name"]) for d in descriptors(count, seed=seed)]


class TestProvidersFromAStream:
    def test_a_generator_is_registered_in_batches_once_each(self, monkeypatch):
        monkeypatch.setattr(participant_services, "REGISTER_BATCH", 2)
        batches = []
        real = participant_services._providers_register_batch

        def spy(wanted, **kwargs):
            batches.append(sorted(wanted))
            return real(wanted, **kwargs)

        monkeypatch.setattr(participant_services, "_providers_register_batch", spy)
        pairs = _providers(5)
        register_provider(pairs[1][0], pairs[1][1])  # already registered: not again
        stream = (pair for pair in [*pairs, pairs[0], pairs[3]])  # and two given twice, in later batches
        assert participant_services.providers_register_verified(stream) == 4
        assert [len(b) for b in batches] == [2, 2, 2, 1]  # REGISTER_BATCH distinct ids at a time
        rows = Participant.objects.filter(participant_id__in=[u for u, _ in pairs])
        assert rows.count() == 5
        assert set(rows.values_list("status", flat=True)) == {ParticipantStatus.VERIFIED}
        published = Entry.objects.filter(record_type="participant", gid__in=[u for u, _ in pairs])
        assert published.count() == 5  # each once in the log, the batch's own and the one registered before

    def test_registered_providers_can_list_by_import(self):
        docs = list(descriptors(3, seed=9))
        participant_services.providers_register_verified(
            (d["provider"]["uscc"], d["provider"]["name"]) for d in docs
        )
        lines = [json.dumps(d, ensure_ascii=False) for d in docs]
        results = [r for _, batch in import_stream(lines, actor_id=None, status="listed") for r in batch]
        assert all(r.accepted for r in results), [r.errors for r in results]


class TestStatisticsDuringALoad:
    def test_the_import_asks_for_fresh_statistics_every_few_batches(self, monkeypatch):
        calls = []
        monkeypatch.setattr(importing, "ANALYZE_EVERY", 2)
        monkeypatch.setattr(importing, "analyze_stale", lambda tables: calls.append(list(tables)))
        docs = list(descriptors(5, seed=21))
        participant_services.providers_register_verified(
            (d["provider"]["uscc"], d["provider"]["name"]) for d in docs
        )
        lines = [json.dumps(d, ensure_ascii=False) for d in docs]
        list(import_stream(lines, actor_id=None, status="listed", batch_size=1))
        assert len(calls) == 2  # after batches 2 and 4 of 5
        assert {"products_product", "federation_entry", "products_productregion"} <= set(calls[0])
        assert Product.objects.count() == 5

    def test_nothing_is_analysed_on_sqlite(self):
        if connection.vendor == "postgresql":
            pytest.skip("SQLite's rule")
        assert statistics.analyze_stale(["products_product"]) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_a_table_is_analysed_once_its_changes_pass_the_threshold_and_not_again():
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE scale_probe (id integer)")
    try:
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO scale_probe SELECT generate_series(1, %s)", [statistics.ANALYZE_BASE - 10]
            )
            cur.execute("SELECT pg_stat_force_next_flush()")
        assert statistics.tables_stale(["scale_probe"]) == []  # under ANALYZE_BASE changes
        with connection.cursor() as cur:
            cur.execute("INSERT INTO scale_probe SELECT generate_series(1, 100)")
            cur.execute("SELECT pg_stat_force_next_flush()")
        assert statistics.analyze_stale(["scale_probe", "no_such_table"]) == ["scale_probe"]
        with connection.cursor() as cur:
            cur.execute("SELECT reltuples FROM pg_class WHERE relname = 'scale_probe'")
            assert cur.fetchone()[0] == statistics.ANALYZE_BASE + 90
        assert statistics.analyze_stale(["scale_probe"]) == []  # analysed: its counter starts again
        with connection.cursor() as cur:  # half its rows again, and a base: analysed again
            cur.execute(
                "INSERT INTO scale_probe SELECT generate_series(1, %s)", [statistics.ANALYZE_BASE + 600]
            )
            cur.execute("SELECT pg_stat_force_next_flush()")
        assert statistics.analyze_stale(["scale_probe"]) == ["scale_probe"]
    finally:
        with connection.cursor() as cur:
            cur.execute("DROP TABLE scale_probe")
