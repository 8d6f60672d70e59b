"""Every log line of a node tells its time in UTC (docs/operations.md, "Logs"), whatever TIME_ZONE or the
process's local time zone (which Django sets to TIME_ZONE once it is set up; gunicorn's master does not)."""

import logging
import logging.config
import os
import time

import pytest

from core.logs import gunicorn_config, logging_config


@pytest.fixture
def shanghai_local_time():
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Shanghai"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def _line(config: dict, logger: str) -> str:
    """What `logger` writes under `config` for a record made at 2026-05-04 03:02:01.123 UTC."""
    configurator = logging.config.DictConfigurator(config)
    formatter = configurator.configure_formatter(
        config["formatters"][config["handlers"]["console"]["formatter"]]
    )
    record = logging.LogRecord(logger, logging.INFO, __file__, 1, "hello", None, None)
    record.created, record.msecs, record.request_id = 1777863721.123, 123.0, "-"
    return formatter.format(record)


def test_plain_log_lines_are_in_utc_whatever_the_local_time_zone(shanghai_local_time):
    assert time.localtime(0).tm_hour == 8  # the process's local time really is Shanghai's here
    line = _line(logging_config(fmt="plain", level="INFO", node="SHDEX"), "federation.pull")
    assert line.startswith("2026-05-04 03:02:01.123Z INFO federation.pull [SHDEX] [-] hello"), line


def test_gunicorns_own_lines_use_the_nodes_format_and_utc(shanghai_local_time):
    config = gunicorn_config(fmt="plain", level="INFO", node="BJIDX")
    assert config["loggers"]["gunicorn.error"]["handlers"] == ["console"]
    line = _line(config, "gunicorn.error")
    assert line.startswith("2026-05-04 03:02:01.123Z INFO gunicorn.error [BJIDX]"), line
    json_config = gunicorn_config(fmt="json", level="INFO", node="BJIDX")
    assert json_config["formatters"]["json"]["timestamp"] == "time"  # python-json-logger: ISO 8601 in UTC
