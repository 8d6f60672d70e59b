"""The feed-check helper process (federation.prepare): a long page's signatures and standard checks run in a
child process while the page before it is applied. These tests start the real helper: its answers must be
exactly what this process would compute, a helper that dies must cost no entry, and it must not outlive
the process that started it."""

import copy
import json
import logging
import os
import signal
import subprocess
import sys
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.exceptions import ValidationFailed
from federation import prepare, replica
from federation.envelope import EnvelopeError
from federation.models import Entry, QuarantinedEntry, SyncState
from federation.pull import pages_apply
from federation.replica import Same
from products.models import Product, Recognition
from tests.test_federation_apply import (
    ORIGIN,
    ROOTDIR,
    _public_b64,
    bjidx_key,
    code,
    home_recognition,
    item,
    product,
    samples,
)

pytestmark = pytest.mark.django_db
__all__ = ["bjidx_key"]  # the fixture, used by name
START_TIMEOUT = 120


@pytest.fixture(autouse=True)
def _fresh_helper_state():
    prepare.stop_helper()
    yield
    prepare.stop_helper()
    prepare._failed_at = 0.0


def _started() -> prepare._Helper:
    helper = prepare._Helper()
    assert helper.ready.wait(START_TIMEOUT), "the helper did not start"
    return helper


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[-1].split()[0] != "Z"


def _mixed_page(key) -> list[dict]:
    d = samples(4, seed=41)
    broken = copy.deepcopy(d[2])
    broken["update_frequency"] = "hourly-ish"
    forged = item(Ed25519PrivateKey.generate(), seq=2, gid=code(2), payload=product(2, d[1]))
    recognition = home_recognition(1)
    return [
        item(key, seq=1, gid=code(1), payload=product(1, d[0])),
        forged,
        item(key, seq=3, gid=code(3), payload=product(3, broken)),
        item(key, seq=4, gid=f"{code(1)}@{ORIGIN}", payload=recognition, record_type="recognition"),
        {"entry": "not an envelope"},
        item(key, seq=6, gid=code(6), payload=product(6, d[3])),
        item(
            key,
            seq=7,
            gid=f"{code(6)}@{ORIGIN}",
            payload={**home_recognition(6), "product_version": "3"},
            record_type="recognition",
        ),
    ]


def _same(theirs, ours) -> None:
    if isinstance(ours, EnvelopeError):
        assert isinstance(theirs, EnvelopeError) and str(theirs) == str(ours)
        return
    (their_body, their_ready), (our_body, our_ready) = theirs, ours
    assert their_body == our_body
    if isinstance(our_ready, ValidationFailed):
        assert isinstance(their_ready, ValidationFailed) and their_ready.errors == our_ready.errors
    elif our_ready is None:
        assert their_ready is None
    else:  # what the helper left for the payload to give is what this process computed
        envelope = json.loads(our_body)
        replica_type = replica.get(envelope["type"])
        assert replica_type.expanded(their_ready[0], envelope["payload"]) == our_ready[0]
        assert their_ready[1] == our_ready[1]


def test_the_helper_answers_what_this_process_computes(bjidx_key):
    key = _public_b64(bjidx_key)
    page = _mixed_page(bjidx_key)
    helper = _started()
    try:
        theirs = helper.check(page, ORIGIN, key)
    finally:
        helper.stop()
    # The helper sends no second copy of a descriptor already normalized: the payload's own is used.
    assert theirs[0][1][0]["descriptor"] is Same
    ours = prepare.page_check(page, origin=ORIGIN, public_key=key)
    assert len(theirs) == len(ours) == len(page)
    for their, our in zip(theirs, ours, strict=True):
        _same(their, our)
    # The page really holds each kind of result: refused envelopes, refused payloads (a product's, a
    # recognition's), prepared products and a checked recognition.
    kinds = [type(r).__name__ for r in ours]
    assert kinds == ["tuple", "EnvelopeError", "tuple", "tuple", "EnvelopeError", "tuple", "tuple"]
    assert isinstance(ours[2][1], ValidationFailed)
    assert ours[2][1].errors[0].field == "descriptor.update_frequency"
    assert isinstance(ours[6][1], ValidationFailed)
    assert ours[6][1].errors[0].field == "product_version"
    values, extras = ours[0][1]
    descriptor = page[0]["entry"]["payload"]["descriptor"]
    assert values["status"] == "listed" and values["name"] == descriptor["name"]
    assert extras["verdict"][0] in {"recognised", "pending", "refused"}
    assert values["descriptor"] == descriptor  # already normalized
    assert ours[3][1][1] == {}  # a recognition checked: nothing more to carry back
    assert helper.process.poll() is not None  # stopped: it exits when its pipe closes


def test_a_pull_applies_through_the_helper_and_loses_nothing_when_it_dies(bjidx_key, settings, caplog):
    """Pages of 30 with the helper taking pages of 10 or more: the third page's check kills the helper with
    SIGKILL; that page and the ones after it are checked in the fetch thread, and every entry applies."""
    settings.FEDERATION = {**settings.FEDERATION, "PREPARE_MIN": 10, "PREPARE_HELPER": True}
    docs = samples(60, seed=43)
    entries = []
    for i, d in enumerate(docs):
        entries.append(item(bjidx_key, seq=2 * i + 1, gid=code(i + 1), payload=product(i + 1, d)))
        home = home_recognition(i + 1)
        gid = f"{code(i + 1)}@{ORIGIN}"
        entries.append(item(bjidx_key, seq=2 * i + 2, gid=gid, payload=home, record_type="recognition"))
    started = prepare._ready_helper()  # starts it; ready for the pages after it has loaded Django
    assert started is None
    helper = prepare._helper[1]
    assert helper.ready.wait(START_TIMEOUT)
    used = []
    real_check = prepare._Helper.check

    def counting(self, items, origin, public_key):
        used.append(len(items))
        return real_check(self, items, origin, public_key)

    pages = []

    def fetch(after: int):
        pages.append(after)
        if len(pages) == 3:
            os.kill(helper.process.pid, signal.SIGKILL)
            helper.process.wait()
        return [e for e in entries if e["entry"]["seq"] > after][:30], len(entries)

    caplog.set_level(logging.WARNING, logger="federation.prepare")
    prepare._Helper.check = counting
    try:
        assert pages_apply(ORIGIN, fetch, source=ORIGIN, after=0) == len(entries)
    finally:
        prepare._Helper.check = real_check
        prepare.stop_helper()
    assert used[:2] == [30, 30]  # the first two pages were checked by the helper, the third one failed
    assert "feed-check helper failed" in caplog.text
    assert SyncState.objects.get(pk=ORIGIN).cursor == len(entries)
    assert not QuarantinedEntry.objects.exists()
    assert Product.objects.filter(exchange_id=ORIGIN).count() == 60
    assert Recognition.objects.filter(exchange_id=ORIGIN).count() == 60
    assert Recognition.objects.exclude(exchange_id=ORIGIN).count() == 60  # this node's own verdicts
    assert Entry.objects.filter(origin=ORIGIN).count() == len(entries)
    # A failed helper is not started again at once: the pages go on being checked here meanwhile.
    prepare._failed_at = time.monotonic()
    assert prepare._ready_helper() is None and prepare._helper is None


def test_an_idle_helper_is_stopped_and_the_next_long_page_starts_another(bjidx_key, settings, monkeypatch):
    """Light nodes: no helper stays at rest. After IDLE_STOP seconds without a page the helper exits and is
    forgotten (not counted as a failure); the next long page is checked here and starts a new one."""
    settings.FEDERATION = {**settings.FEDERATION, "PREPARE_MIN": 1, "PREPARE_HELPER": True}
    monkeypatch.setattr(prepare, "IDLE_STOP", 2.0)
    key = _public_b64(bjidx_key)
    page = _mixed_page(bjidx_key)
    assert prepare._ready_helper() is None  # started
    first = prepare._helper[1]
    assert first.ready.wait(START_TIMEOUT)
    results = prepare.page_check_aside(page, origin=ORIGIN, public_key=key)
    assert len(results) == len(page) and first.used > 0
    deadline = time.monotonic() + 30
    while first.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert first.process.poll() is not None, "the idle helper was not stopped"
    assert prepare._helper is None and prepare._failed_at == 0.0
    prepare.page_check_aside(page, origin=ORIGIN, public_key=key)  # checked here, a new helper starting
    second = prepare._helper[1]
    assert second is not first and second.process.poll() is None


def test_a_page_shorter_than_the_minimum_is_checked_here(bjidx_key, settings):
    settings.FEDERATION = {**settings.FEDERATION, "PREPARE_MIN": 1000}
    key = _public_b64(bjidx_key)
    page = _mixed_page(bjidx_key)
    results = prepare.page_check_aside(page, origin=ORIGIN, public_key=key)
    assert prepare._helper is None  # no helper started for it
    for theirs, ours in zip(results, prepare.page_check(page, origin=ORIGIN, public_key=key), strict=True):
        _same(theirs, ours)


def test_the_helper_does_not_outlive_a_worker_killed_with_sigkill():
    script = (
        "import django, time; django.setup()\n"
        "from federation import prepare\n"
        "helper = prepare._Helper()\n"
        "assert helper.ready.wait(120)\n"
        "print(helper.process.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "registry.settings"}
    worker = subprocess.Popen(  # noqa: S603 (this interpreter and a script of this test)
        [sys.executable, "-c", script], cwd=ROOTDIR, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        pid = int(worker.stdout.readline())
        assert _alive(pid)
        worker.kill()
        worker.wait()
        deadline = time.monotonic() + 30
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid), "the helper outlived its worker"
    finally:
        worker.kill()
        worker.wait()


def _helper_in_a_daemonic_process(answer) -> None:
    import django

    django.setup()
    from federation import prepare as in_child

    helper = in_child._Helper()
    try:
        answer.put(helper.ready.wait(START_TIMEOUT) and helper.check([], ORIGIN, "") == [])
    finally:
        helper.stop()


def test_the_helper_starts_from_a_celery_prefork_child():
    """Celery's prefork children are daemonic processes, which multiprocessing forbids to have children:
    the helper is a plain subprocess, so a pull in a prefork child can start one."""
    import billiard

    answer = billiard.Queue()
    child = billiard.Process(target=_helper_in_a_daemonic_process, args=(answer,), daemon=True)
    child.start()
    try:
        assert answer.get(timeout=START_TIMEOUT) is True
    finally:
        child.join(30)
    assert child.exitcode == 0


def test_a_descriptor_the_standard_normalizes_is_stored_normalized_through_the_helper(bjidx_key):
    """Most descriptors arrive normalized and the apply keeps the payload's own; one that is not (padding
    around its name, a repeated keyword) comes back from the helper normalized, and that is what is stored."""
    from federation.apply import apply_page

    key = _public_b64(bjidx_key)
    plain, padded = samples(2, seed=47)
    expected = copy.deepcopy(padded)
    padded["name"] = f"  {padded['name']} "
    padded["keywords"] = [*padded["keywords"], padded["keywords"][0]]
    page = [
        item(bjidx_key, seq=1, gid=code(1), payload=product(1, plain)),
        item(bjidx_key, seq=2, gid=code(2), payload=product(2, padded)),
    ]
    helper = _started()
    try:
        results = helper.check(page, ORIGIN, key)
    finally:
        helper.stop()
    assert results[0][1][0]["descriptor"] is Same  # not sent back: the payload's own is used
    assert results[1][1][0]["descriptor"] == expected
    assert apply_page(origin=ORIGIN, items=page, source=ORIGIN, after=0, prechecked=(key, results)) == (2, 2)
    stored = dict(Product.objects.filter(exchange_id=ORIGIN).values_list("code", "descriptor"))
    assert stored == {code(1): plain, code(2): expected}
    # The entry kept for relaying is still what the origin signed, padding and all.
    assert '"  ' in Entry.objects.get(origin=ORIGIN, seq=2).body


def test_a_helper_that_cannot_start_costs_nothing_but_speed(bjidx_key, settings, monkeypatch, caplog):
    """No interpreter to start, or one that dies while loading: the pages are checked in this process."""
    settings.FEDERATION = {**settings.FEDERATION, "PREPARE_MIN": 1}
    key = _public_b64(bjidx_key)
    page = _mixed_page(bjidx_key)
    expected = prepare.page_check(page, origin=ORIGIN, public_key=key)
    caplog.set_level(logging.WARNING, logger="federation.prepare")

    def checked_here() -> None:
        results = prepare.page_check_aside(page, origin=ORIGIN, public_key=key)
        for theirs, ours in zip(results, expected, strict=True):
            _same(theirs, ours)

    monkeypatch.setattr(prepare.sys, "executable", "/nonexistent/python3")
    checked_here()
    assert "could not start the feed-check helper" in caplog.text and prepare._helper is None
    monkeypatch.undo()

    # An interpreter that exits at once (its settings module does not exist): it never becomes ready.
    prepare._failed_at = 0.0
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "no_such_settings_module")
    checked_here()
    helper = prepare._helper[1]
    helper.process.wait(START_TIMEOUT)
    deadline = time.monotonic() + 10
    while not helper.failed and time.monotonic() < deadline:
        time.sleep(0.05)
    assert helper.failed and not helper.ready.is_set()
    assert "did not start" in caplog.text
    checked_here()
    assert prepare._helper is None  # the failed one is stopped, a new one waits RESTART_AFTER
