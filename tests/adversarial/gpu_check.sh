#!/usr/bin/env bash
# GPU check of the sandbox: on a CUDA machine, the strong level (bubblewrap + setpriv +
# cgroups) must still let the worker use the GPU. Run from anywhere: tests/adversarial/gpu_check.sh
# (PYTHON=... to pick the interpreter that has torch with CUDA, numpy and pytest).
set -u
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
echo "== machine"
nvidia-smi -L 2>&1 | head -3; uname -r; id -u; "$PY" --version
"$PY" -c "import torch, numpy, pytest; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
if ! command -v bwrap >/dev/null; then
  { ls .whl/bubblewrap*.deb >/dev/null 2>&1 && dpkg -i .whl/bubblewrap*.deb >/dev/null; } \
    || { apt-get install -y -qq bubblewrap >/dev/null 2>&1; } || echo "no bubblewrap"
fi
command -v bwrap setpriv
echo "== cgroups"; cat /proc/self/cgroup; grep cgroup /proc/self/mounts
echo "== sandbox tests"
"$PY" -m pytest -q -p no:cacheprovider -rs -s tests/test_sandbox.py
echo "== cgroup after the tests"; cat /proc/self/cgroup
C=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)
ls "$C/.." | head; cat "$C/../cgroup.subtree_control" "$C/../cgroup.controllers" 2>&1
