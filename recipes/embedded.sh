#!/usr/bin/env bash
# The shipped embedded models, reproduced from nothing (CPU is enough; a GPU is faster).
#
#   bash recipes/embedded.sh corpus asr ship-asr      # the steps to run, in order
#   SMALL=1 OUT=/tmp/r bash recipes/embedded.sh corpus asr   # a few steps: checks the recipe runs
#
# Languages held out of all training (results on them are for languages the models never saw):
# sw_ke, uk_ua, ur_pk, ms_my. Their scripts (Latin, Cyrillic, Arabic) are seen in other
# languages, so the embedded ASR's CER stays meaningful on them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
FLEURSR=${FLEURSR:-.venv/bin/fleursr}
OUT=${OUT:-runs/embedded}
SEED=${SEED:-1234}
HELD_OUT="sw_ke uk_ua ur_pk ms_my"
TRAIN_LANGUAGES=$($PY -c "
from corpus.languages import EMBEDDED_LANGUAGES
print(' '.join(c for c in EMBEDDED_LANGUAGES if c not in '$HELD_OUT'.split()))")
if [[ -n "${SMALL:-}" ]]; then
    PER_LANGUAGE=${PER_LANGUAGE:-3}
    TRAIN_LANGUAGES="en_us fr_fr hi_in"
    ASR_ARGS="--model tiny --steps 4 --batch-size 2 --eval-every 4 --save-every 4 --warmup-steps 1"
else
    PER_LANGUAGE=${PER_LANGUAGE:-150}
    ASR_ARGS="--model embedded --steps ${ASR_STEPS:-2000} --batch-size 16 --lr 1.5e-3"
    ASR_ARGS+=" --warmup-steps 200 --eval-every 200 --save-every 200"
fi

for step in "$@"; do
    case "$step" in
        corpus)  # the clean training corpus: espeak-ng, fixed seed, held-out languages left out
            # shellcheck disable=SC2086
            $FLEURSR corpus synth --out "$OUT/clean" --languages $TRAIN_LANGUAGES \
                --per-language "$PER_LANGUAGE" --seed "$SEED" ;;
        asr)  # the embedded character CTC ASR, noise-augmented; resumes from $OUT/asr
            # shellcheck disable=SC2086
            $FLEURSR train asr --corpus "$OUT/clean" --out "$OUT/asr" --seed "$SEED" $ASR_ARGS ;;
        ship-asr)  # the trained ASR into the package: config.json + float16 weights (half the
            # bytes; they load into the float32 model unchanged in shape)
            mkdir -p quality/asr/weights/embedded
            cp "$OUT/asr/config.json" quality/asr/weights/embedded/
            $PY -c "
import sys, torch
from safetensors.torch import load_file, save_file
state = load_file(sys.argv[1])
save_file({k: v.half() if v.is_floating_point() else v for k, v in state.items()}, sys.argv[2])
" "$OUT/asr/model.safetensors" quality/asr/weights/embedded/model.safetensors ;;
        languages)  # what the models train on, and what they never see
            echo "train: $TRAIN_LANGUAGES"
            echo "held out: $HELD_OUT" ;;
        *) echo "unknown step: $step (languages, corpus, asr, ship-asr)" >&2; exit 2 ;;
    esac
done
