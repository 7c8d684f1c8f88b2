#!/usr/bin/env bash
# GPU check (course issue: --device cuda reaches the training suite; sandbox issue: the GPU
# path works at the strong level). On a CUDA machine, from the repository root:
#     bench/gpu_check.sh            (PYTHON=... picks the interpreter that has torch with CUDA)
# Grades the demo class with --device cuda at the strongest sandbox level, prints the training
# suite's GPU checks, and runs the sandbox tests (their CUDA test included). Wheels in .whl/
# (nbformat and its needs; bubblewrap's .deb) are installed first where the machine lacks them.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if ! command -v bwrap >/dev/null && ls .whl/bubblewrap*.deb >/dev/null 2>&1; then
  dpkg -i .whl/bubblewrap*.deb >/dev/null 2>&1 || echo "could not install bubblewrap"
fi

echo "== machine"
nvidia-smi -L 2>&1 | head -2
"$PY" -c "import sys, torch; print(sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.cuda.is_available())"

echo "== grade the demo class with --device cuda"
time "$PY" -m grader.cli.main demo/submissions --out "$OUT/demo" --device cuda --force
"$PY" - "$OUT/demo" <<'PYEOF'
import json, sys
from pathlib import Path
for student in ("alice", "bob", "erin"):
    data = json.loads((Path(sys.argv[1]) / student / "training" / "results.json").read_text())
    gpu = [t for t in data["tests"] if "cuda" in t["extra_data"]["id"]]
    print(student, "training", data["score"], data["extra_data"]["device"],
          [(t["extra_data"]["id"], t["extra_data"]["status"]) for t in gpu])
PYEOF

echo "== sandbox tests (strong level, CUDA included)"
"$PY" -m pytest -q -p no:cacheprovider -rs tests/test_sandbox.py 2>&1 | tail -8
