"""gunicorn's configuration for a node's web process: `gunicorn registry.wsgi -c python:registry.gunicorn ...`
(the Docker image, `make run` and the multi-node tests start it so; options on the command line come on top).

* Metrics across worker processes: before the workers start, `PROMETHEUS_MULTIPROC_DIR` (default
  `<NODE_DATA_DIR>/metrics`) is emptied and set for them, so prometheus-client keeps each worker's values in
  a file there and `/metrics` adds up all of them (core/metrics.py). A worker that exits leaves its file:
  its counts stay in the totals, as counters must.
* Logs: gunicorn's own lines are in the node's format (LOG_FORMAT: plain or JSON lines, times in UTC), and its
  access log is off: the node logs every request itself, with its request id
  (core.middleware.RequestMetricsMiddleware).

The settings are read here, once, in gunicorn's master: a bad value stops it with the message naming the
variable instead of every worker failing in turn.
"""

import os
from pathlib import Path

from core.logs import gunicorn_config
from registry import settings as node

logconfig_dict = gunicorn_config(fmt=node.LOG_FORMAT, level=node.LOG_LEVEL, node=node.NODE_CODE)

# gunicorn's control socket (for `gunicornc`) in the node's data directory: its default path is one per user
# ($HOME/.gunicorn/gunicorn.ctl), shared by every node a host runs (`make run`'s three, the tests'), and each
# node after the first logged an error ("Address … already in use"). A path too long for a Unix socket
# (about 108 bytes) turns it off instead.
_control = Path(node.NODE_DATA_DIR) / "gunicorn.ctl"
if len(os.fsencode(_control)) < 100:
    control_socket = str(_control)
else:
    control_socket_disable = True


def on_starting(server) -> None:
    path = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or node.NODE_DATA_DIR / "metrics")
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("*.db"):  # a previous run's values: counters start again from 0 with the server
        old.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
