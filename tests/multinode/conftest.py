"""Fixtures of the multi-node tests: real nodes (gunicorn, Celery worker, Celery beat) on loopback.

`-m "not multinode"` leaves them out of a quick run.
"""

from __future__ import annotations

import pytest

from tests.multinode.harness import Federation

CODES = ("SHDEX", "BJIDX", "GYBDX")


def pytest_configure(config):
    config.addinivalue_line("markers", "multinode: starts real exchange nodes on loopback (slow)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/multinode/" in item.nodeid.replace("\\", "/") and "test_sequence_order" not in item.nodeid:
            item.add_marker(pytest.mark.multinode)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _failed(request) -> bool:
    return any(
        getattr(getattr(request.node, f"report_{when}", None), "failed", False) for when in ("setup", "call")
    )


@pytest.fixture(scope="module")
def federation3(tmp_path_factory):
    """SHDEX, BJIDX and GYBDX, peered with each other, each with web, worker and beat."""
    federation = Federation(CODES, tmp_path_factory.mktemp("federation3"))
    try:
        federation.start()
        yield federation
    finally:
        federation.close()


@pytest.fixture
def nodes(federation3, request):
    """The running federation for one test: anything a previous test stopped is started again first, and
    the tail of every node's logs is printed if the test fails."""
    federation3.ensure_running()
    yield federation3
    if _failed(request):
        print(f"\n===== logs of the nodes after {request.node.name} =====\n{federation3.logs_tail(60)}")
