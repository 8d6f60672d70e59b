"""Run every benchmark in turn (each prints its machine, figures and same-run baselines)."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in (
    "import_products.py",
    "search.py",
    "replication.py",
    "propagation.py",
    "participant_tokens.py",
    "trust_view.py",
    "demand_matching.py",
):
    print(f"=== {script}", flush=True)
    code = subprocess.run([sys.executable, str(HERE / script)], cwd=HERE).returncode
    if code:
        sys.exit(code)
