"""The machine profile of a sample (standards/quality_profile.py): a 10,000-row sample file profiled, beside
merely reading the same rows, in the same run. No database.

    .venv/bin/python bench/quality_profile.py [--rows 10000] [--repeat 5]

Target (issue 20): profiling a 10,000-row sample takes under 1 s.

The sample: the data dictionary of docs/examples/product-descriptor-1.1.json (8 fields: text, codes of an
inline and of a referenced list, decimals, a datetime, a geo point) plus an integer, a boolean and a date, and
ROWS rows with some nulls, some values off their type and 1% repeated rows. It is written as JSON lines and as
CSV, and for each:

* **read**: `products.sample_files.sample_file_read` — what the node does to an uploaded file before the
  profile (UTF-8 decoding, the CSV reader or one `json.loads` a line, the bounds);
* **profile**: `profile_compute` on those records;
* baseline **json.loads / csv.reader only**: the bare decoding of the same bytes, no checks.

Each is timed REPEAT times: the median CPU time of this process (the work's own, on a shared machine) and
the median and worst wall time are printed; the target is judged on the CPU time.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# After the repository root: bench/portal.py must not shadow the portal app.
sys.path.append(os.path.dirname(os.path.abspath(__file__)))

from common import machine  # noqa: E402

TARGET_S = 1.0
NOW = dt.datetime(2026, 12, 5, 4, 0, tzinfo=dt.UTC)
EXTRA_FIELDS = [
    {"name": "sessions", "label": "充电次数", "type": "integer"},
    {"name": "public", "label": "是否公用", "type": "boolean"},
    {"name": "report_day", "label": "统计日", "type": "date"},
]


def dictionary() -> list[dict]:
    example = json.loads((ROOT / "docs/examples/product-descriptor-1.1.json").read_text("utf-8"))
    return example["fields"] + EXTRA_FIELDS


def make_rows(rows: int, seed: int = 20) -> list[dict]:
    rng = random.Random(seed)
    made: list[dict] = []
    for i in range(rows):
        if made and rng.random() < 0.01:
            made.append(dict(rng.choice(made)))  # a repeated row
            continue
        day = 1 + i % 28
        made.append(
            {
                "pile_id": f"SH-PD-{i:05d}",
                "station": f"浦东新区第{i % 300}充电站",
                "district": rng.choice(["310115", "310104", "310106"]),
                "rated_kw": rng.choice([60, 120, 7.5, "120kW"]),
                "slot_start": f"2026-11-{day:02d}T{i % 24:02d}:{15 * (i % 4):02d}:00+08:00",
                "energy_kwh": None if rng.random() < 0.1 else round(rng.uniform(0, 60), 1),
                "status": rng.choice(["charging", "idle", "fault", "unknown"]),
                "location": [121.5 + rng.random() / 10, 31.2 + rng.random() / 10],
                "sessions": rng.randint(0, 40),
                "public": rng.random() < 0.7,
                "report_day": f"2026-11-{day:02d}",
            }
        )
    return made


def as_jsonl(rows: list[dict]) -> bytes:
    return "\n".join(json.dumps(row, ensure_ascii=False) for row in rows).encode()


def as_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        cells = {
            k: ("" if v is None else f"{v[0]},{v[1]}" if isinstance(v, list) else v) for k, v in row.items()
        }
        writer.writerow({k: str(v).lower() if isinstance(v, bool) else v for k, v in cells.items()})
    return out.getvalue().encode()


def timed(repeat: int, work) -> tuple[float, float, float, object]:
    """(median wall time, worst wall time, median CPU time of this process, the last result). On a shared
    machine the CPU time is the work's own; the wall time includes waiting for a core."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        result = work()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), max(walls), statistics.median(cpus), result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from products.sample_files import sample_file_read
    from standards.quality_profile import profile_compute

    print(machine())
    fields = dictionary()
    rows = make_rows(args.rows)
    files = {"jsonl": as_jsonl(rows), "csv": as_csv(rows)}
    bare = {
        "jsonl": lambda data: [json.loads(line) for line in data.decode().splitlines()],
        "csv": lambda data: list(csv.DictReader(io.StringIO(data.decode()))),
    }
    worst_cpu = 0.0
    for kind, data in files.items():
        base, _, base_cpu, _ = timed(args.repeat, lambda: bare[kind](data))  # noqa: B023
        read, _, read_cpu, records = timed(args.repeat, lambda: sample_file_read(data, kind))  # noqa: B023
        wall, worst, cpu, profile = timed(
            args.repeat,
            lambda: profile_compute(records, fields, "daily", now=NOW, source=kind),  # noqa: B023
        )
        worst_cpu = max(worst_cpu, cpu)
        assert profile["rows"] == args.rows, profile["rows"]
        print(
            f"{kind:5} {args.rows} rows × {len(fields)} fields, {len(data) / 1e6:.2f} MB, "
            f"{profile['duplicate_rows']} duplicate rows; median of {args.repeat}, CPU (wall): "
            f"bare decoding {base_cpu * 1000:.0f} ms ({base * 1000:.0f}); "
            f"read {read_cpu * 1000:.0f} ms ({read * 1000:.0f}); "
            f"profile {cpu * 1000:.0f} ms ({wall * 1000:.0f}, worst {worst * 1000:.0f}), "
            f"{cpu / base_cpu:.1f}× the bare decoding"
        )
    verdict = "met" if worst_cpu < TARGET_S else "MISSED"
    print(
        f"target: profile < {TARGET_S:.0f} s for {args.rows} rows (CPU time): {verdict} ({worst_cpu:.2f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
