#!/usr/bin/env bash
# One-call GPU check (benchmarks/gpu_check.py): full-size restoration, vocoder peers, Whisper
# large-v3 and DNSMOS scoring and a `fleursr build`, timed on one GPU into one JSON.
#
#   bash benchmarks/gpu_check.sh [--smoke] [--out DIR]
#
# --smoke: the same code at toy sizes on CPU (no GPU needed; writes to a temporary folder
# unless --out is given). Python: $PYTHON, else the project's .venv, else python3; fleursr and
# its dependencies must import there (pip install -e . where the registries are reachable).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-}"
if [[ -z "$python" ]]; then
    if [[ -x .venv/bin/python ]]; then python=.venv/bin/python; else python=python3; fi
fi
if ! error="$("$python" -c "import fleursr.restore.model, fleursr.jobs.batch.build" 2>&1)"; then
    echo "gpu_check: fleursr does not import with $python:" >&2
    echo "$error" | tail -n 1 >&2
    echo "install the project and its dependencies there first (pip install -e .)," >&2
    echo "or name another interpreter with PYTHON=..." >&2
    exit 2
fi
export PYTHONUNBUFFERED=1
exec "$python" benchmarks/gpu_check.py "$@"
