"""Checking a feed page in a helper process while the page before it is applied.

What a page needs before it touches the database is pure work on the entries alone: the envelope's shape,
its canonical bytes and the origin's Ed25519 signature, then each record type's own preparation (a
product's payload and descriptor checked against the common standard, its search columns segmented, this
node's verdict on it). Threads cannot run that Python beside the applying thread (one GIL), so a long pull
hands it to a helper process of its own: `page_check` runs there on page n+1 while this process applies
page n, and the two cores both work (docs/performance.md, apply throughput).

The helper is a plain child process (`python -m federation.helper_process`), not a multiprocessing pool:
Celery's prefork children are daemonic and may not start multiprocessing children. It speaks length-prefixed
pickles on its stdin and stdout, touches no database, and exits when its stdin closes, so it never outlives
the worker that started it, even one killed with SIGKILL. It starts on the first page of at least
`FEDERATION_PREPARE_MIN` entries; until it has loaded Django, and whenever it fails, pages are checked in
the calling thread as before, so a helper that dies costs speed, never an entry. It is stopped once no page
has needed it for IDLE_STOP seconds (a catch-up's pages follow each other within seconds), so an idle node
holds no helper: about 100 MB less at rest (docs/operations.md, "Light nodes"); the next long page starts one.

What the helper returns is only a speed-up: `apply_page` uses it only when it was made with the origin's
current key and for exactly these items, and the entries are the caller's own (the helper returns the
canonical body and the preparation, never the envelope the caller applies).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import struct
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings

from core.exceptions import ValidationFailed
from federation import replica
from federation.envelope import EnvelopeError, envelopes_check
from federation.replica import Same
from standards.segmentation import warm_up

logger = logging.getLogger(__name__)

# One result per item of a page: the EnvelopeError that refused it, or (canonical body, preparation), where
# the preparation is what the record type's `prepare` returned, the ValidationFailed it raised, or None
# (not prepared: the type is unknown or private, or `prepare` raised something else, which the apply then
# meets again and quarantines with its traceback).
Result = EnvelopeError | tuple[str, Any]

_HEADER = struct.Struct("!Q")
_READY = "ready"
RESTART_AFTER = 30.0  # seconds before a helper that failed is started again
IDLE_STOP = 60.0  # seconds without a page after which the helper is stopped


def page_check(items: list, *, origin: str, public_key: str) -> list[Result]:
    """Check a feed page: envelopes and signatures, then each verified entry's record-type preparation."""
    results: list[Result] = []
    for result in envelopes_check(items, origin=origin, public_key=public_key):
        if isinstance(result, EnvelopeError):
            results.append(result)
            continue
        envelope, body = result
        replica_type = replica.get(envelope["type"])
        prepared = None
        if replica_type is not None and not replica_type.private:
            try:
                prepared = replica_type.prepare(origin, envelope["gid"], envelope["payload"])
            except ValidationFailed as exc:
                prepared = exc
            except replica.APPLY_FAILURES:
                prepared = None
        results.append((body, prepared))
    return results


def _shrink(items: list, results: list[Result]) -> list[Result]:
    """What the helper sends back: column values the caller can take from its own payload stand as `Same`
    (`federation.replica`; the applier puts the payload's own back): all of a verbatim type's, and the
    containers equal to their payload field (a product's descriptor, most of what a page would weigh)."""
    types = _Types()
    for n, (item, result) in enumerate(zip(items, results, strict=True)):
        if isinstance(result, tuple) and isinstance(result[1], tuple):
            entry = item["entry"]
            replica_type = types[entry["type"]]
            values, extras = result[1]
            if replica_type.verbatim:
                results[n] = (result[0], (Same, extras))
                continue
            payload = entry["payload"]
            for name, column in replica_type.wire_columns:
                value = values.get(column)
                if type(value) in (dict, list) and (value is payload[name] or value == payload[name]):
                    values[column] = Same
    return results


class _Types(dict):
    """Record types by name, looked up once per page (the helper only meets types it knows: it prepared
    them)."""

    def __missing__(self, type_name: str) -> replica.ReplicaType:
        found = self[type_name] = replica.get(type_name)
        return found


# --- The helper process -------------------------------------------------------------------------------------
def _write(stream, value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _read(stream) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("the other end closed the pipe")
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the other end closed the pipe")
    return pickle.loads(data)  # noqa: S301 - our own process's pickles, over our own pipe


class HelperFailed(RuntimeError):
    pass


class _Helper:
    """One helper process and the pipe to it; one request at a time."""

    def __init__(self) -> None:
        env = dict(os.environ)
        root = str(Path(settings.BASE_DIR))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        env.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
        self.process = subprocess.Popen(  # this interpreter and this module, no shell
            [sys.executable, "-m", "federation.helper_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=root,
            close_fds=True,
        )
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.failed = False
        self.used = time.monotonic()
        threading.Thread(target=self._await_ready, name="prepare-helper-start", daemon=True).start()
        threading.Thread(target=self._stop_when_idle, name="prepare-helper-idle", daemon=True).start()

    def _stop_when_idle(self) -> None:
        """Stop the helper once it has had no page for IDLE_STOP seconds (never in the middle of one)."""
        while not self.failed:
            time.sleep(min(5.0, IDLE_STOP / 4))
            if time.monotonic() - self.used > IDLE_STOP and self.lock.acquire(blocking=False):
                try:
                    _forget(self)
                    self.stop()
                finally:
                    self.lock.release()
                logger.info("feed-check helper stopped after %.0f s without a page", IDLE_STOP)
                return

    def _await_ready(self) -> None:
        try:
            ok = _read(self.process.stdout) == _READY
        except (EOFError, OSError, pickle.UnpicklingError):
            ok = False
        if ok:
            logger.info("feed-check helper ready (pid %s)", self.process.pid)
            self.ready.set()
        else:
            self.failed = True
            logger.warning("the feed-check helper process did not start (exit %s)", self.process.poll())

    def check(self, items: list, origin: str, public_key: str) -> list[Result]:
        with self.lock:
            self.used = time.monotonic()
            if self.failed:  # stopped meanwhile (idle): the caller checks the page itself
                raise HelperFailed("the helper was stopped")
            try:
                _write(self.process.stdin, (items, origin, public_key))
                answer = _read(self.process.stdout)
            except (OSError, EOFError, pickle.PickleError, RecursionError, TypeError) as exc:
                self.failed = True
                raise HelperFailed(f"{exc.__class__.__name__}: {exc}") from exc
        if isinstance(answer, str):  # the helper's own failure, as a traceback
            raise HelperFailed(answer)
        if not isinstance(answer, list) or len(answer) != len(items):
            self.failed = True
            raise HelperFailed("the helper answered something else than one result per item")
        return answer

    def stop(self) -> None:
        self.failed = True
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_helper: tuple[int, _Helper] | None = None
_failed_at = 0.0
_helper_lock = threading.Lock()


def _ready_helper() -> _Helper | None:
    """This process's helper if it is ready; starts one (ready for a later page) if there is none."""
    global _helper, _failed_at
    with _helper_lock:
        held = _helper[1] if _helper is not None and _helper[0] == os.getpid() else None
        if held is not None and held.failed:
            held.stop()
            _helper, held, _failed_at = None, None, time.monotonic()
        if held is None:
            if time.monotonic() - _failed_at < RESTART_AFTER and _failed_at:
                return None
            try:
                _helper = (os.getpid(), _Helper())
            except OSError as exc:  # no process to be had (limits, a missing interpreter): check here
                logger.warning("could not start the feed-check helper: %s", exc)
                _failed_at = time.monotonic()
            return None
        return held if held.ready.is_set() else None


def _forget(helper: _Helper) -> None:
    """Drop `helper` as this process's helper (it is being stopped), without counting it as a failure."""
    global _helper
    with _helper_lock:
        if _helper is not None and _helper[1] is helper:
            _helper = None


def stop_helper() -> None:
    """Stop this process's helper (tests; a worker shutting down closes the pipe anyway)."""
    global _helper
    with _helper_lock:
        if _helper is not None and _helper[0] == os.getpid():
            _helper[1].stop()
        _helper = None


def page_check_aside(items: list, *, origin: str, public_key: str) -> list[Result]:
    """`page_check`, in the helper process when the page is long enough and the helper is up; in this
    thread otherwise, or when the helper fails (logged; a new helper is tried after RESTART_AFTER)."""
    conf = settings.FEDERATION
    helper = None
    if conf["PREPARE_HELPER"] and len(items) >= conf["PREPARE_MIN"]:
        helper = _ready_helper()
    if helper is not None:
        try:
            return helper.check(items, origin, public_key)
        except HelperFailed as exc:
            logger.warning("feed-check helper failed, checking %s's page here: %s", origin, exc)
    return page_check(items, origin=origin, public_key=public_key)


def serve(out: BinaryIO) -> None:
    """The helper's loop: one (items, origin, public key) in, its `page_check` out, until stdin closes.
    Runs in the helper process (`federation.helper_process`), Django set up, `out` the pipe to the caller."""
    warm_up()
    _write(out, _READY)
    source = sys.stdin.buffer
    while True:
        try:
            items, origin, public_key = _read(source)
        except EOFError:
            return
        try:
            answer: Any = _shrink(items, page_check(items, origin=origin, public_key=public_key))
            _write(out, answer)
        except Exception:  # reported to the caller, which checks the page itself
            _write(out, traceback.format_exc(limit=20))
