"""The embedded broker (file-system transport): a consumer never sees a half-written message."""

import time
from pathlib import Path

import pytest
from kombu import Connection

from registry.celery import app


def _connection(tmp_path: Path) -> Connection:
    folder = tmp_path / "queue"
    folder.mkdir()
    return Connection(
        "filesystem://",
        transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(tmp_path),
            "store_processed": False,
        },
    )


def test_the_celery_app_uses_the_atomic_transport_for_filesystem_urls():
    with app.connection_for_write("filesystem://") as conn:
        assert type(conn.transport).__module__ == "core.broker"


def test_a_message_being_written_is_not_consumed_and_a_written_one_is_whole(tmp_path):
    with _connection(tmp_path) as conn:
        queue = conn.SimpleQueue("jobs")
        folder = tmp_path / "queue"
        # A producer in the middle of writing: the file exists, the bytes are not there yet.
        (folder / "1_abc.jobs.msg.part").write_bytes(b"")
        queue.put({"n": 1})
        assert [p.name.endswith(".msg") for p in folder.iterdir()].count(True) == 1
        message = queue.get(timeout=1)
        assert message.payload == {"n": 1}
        message.ack()
        assert (folder / "1_abc.jobs.msg.part").exists()  # never picked up, never decoded
        queue.close()


def test_while_a_message_is_written_the_consumer_finds_nothing(tmp_path, monkeypatch):
    """kombu's own transport creates `<name>.jobs.msg` and then writes it: a consumer polling at that moment
    moves and decodes an empty file and the worker dies. Here the consumer polls in mid-write."""
    import queue as stdlib_queue

    from core import broker

    seen = {}
    with _connection(tmp_path) as conn:
        channel = conn.default_channel
        original = broker.dumps

        def dumps_while_polling(payload):
            seen["files"] = sorted(p.name.rsplit(".", 1)[-1] for p in (tmp_path / "queue").iterdir())
            try:
                channel._get("jobs")
                seen["consumed"] = True
            except stdlib_queue.Empty:
                seen["consumed"] = False
            return original(payload)

        monkeypatch.setattr(broker, "dumps", dumps_while_polling)
        channel._put("jobs", {"n": 2})
        assert seen == {"files": ["part"], "consumed": False}
        assert channel._get("jobs") == {"n": 2}


def test_pulls_and_anti_entropy_go_to_the_sync_queue_everything_else_to_the_default_queue():
    app.loader.import_default_modules()
    queues = {
        name: app.amqp.router.route({}, name)["queue"].name
        for name in app.tasks
        if not name.startswith("celery.")
    }
    assert {name for name, queue in queues.items() if queue == "sync"} == {
        "federation.tasks.pull_origin",
        "federation.tasks.anti_entropy_peer",
        "federation.tasks.fetch_private",
        "core.tasks.sync_heartbeat",
    }
    assert queues["federation.tasks.wake_peers"] == queues["demands.tasks.demand_match"] == "celery"


def test_a_pull_task_is_published_to_the_sync_queue_of_the_real_broker():
    """Through the broker the tests run on (file system or Redis): the message is in `sync`, not `celery`."""
    import uuid

    from federation.tasks import pull_origin

    marker = f"T{uuid.uuid4().hex[:8]}"
    with app.connection_for_write() as conn:
        pull_origin.apply_async((marker,), connection=conn)
        found = {}
        for queue in ("sync", "celery"):  # each drained until the marker or nothing comes within 3 s
            simple = conn.SimpleQueue(queue)
            try:
                while queue not in found:
                    try:
                        message = simple.get(block=True, timeout=3)
                    except simple.Empty:
                        break
                    if message.headers.get("argsrepr") == repr((marker,)):
                        found[queue] = message.headers["task"]
                    message.ack()
            finally:
                simple.close()
    assert found == {"sync": "federation.tasks.pull_origin"}


def test_a_worker_shutting_down_stops_waiting_for_messages_at_once(tmp_path):
    """Celery's worker loop waits for a message 2 s at a time; once the worker is shutting down (its signal
    handler sends `worker_shutting_down`) the wait ends within a slice, so a warm shutdown starts at once."""
    from celery.signals import worker_shutting_down

    from core import broker

    with _connection(tmp_path) as conn:
        conn.SimpleQueue("jobs").consumer.consume()
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            conn.drain_events(timeout=0.5)
        assert time.monotonic() - started >= 0.5  # an idle wait still lasts its timeout
        worker_shutting_down.send(sender="worker@test", sig="SIGTERM", how="Warm", exitcode=0)
        try:
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                conn.drain_events(timeout=2.0)
            assert time.monotonic() - started < 0.3
        finally:
            broker.stopping.clear()


def test_the_file_system_transport_does_not_warn_about_a_hostname(tmp_path, caplog):
    with _connection(tmp_path) as conn:
        conn.SimpleQueue("jobs").put({"n": 1})
    assert not [r for r in caplog.records if "hostname" in r.getMessage()]
