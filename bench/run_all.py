"""Run every benchmark in turn (each prints its machine, figures and same-run baselines)."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script, *args in (
    ("import_products.py",),
    ("search.py",),
    ("search.py", "--sqlite", "--count", "20000"),  # the embedded default, at its target's size
    ("portal_operator.py",),
    ("replication.py",),
    ("recognitions.py",),
    ("propagation.py",),
    ("participant_tokens.py",),
    ("trust_view.py",),
    ("demand_matching.py",),
    ("deals.py",),
    ("quality_profile.py",),
    ("portal.py",),
):
    print(f"=== {' '.join((script, *args))}", flush=True)
    code = subprocess.run([sys.executable, str(HERE / script), *args], cwd=HERE).returncode
    if code:
        sys.exit(code)
