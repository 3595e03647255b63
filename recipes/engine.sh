#!/usr/bin/env bash
# The engine restorer from nothing: clean targets with real bandwidth, degraded inputs at 16 kHz.
#
#   bash recipes/engine.sh data            # the training corpus (below)
#   bash recipes/engine.sh vocoder &       # WaveFit (degraded start, STFT network), one core
#   bash recipes/engine.sh cleaner &       # the Conformer cleaner, the other core, side by side
#   bash recipes/engine.sh merge           # cleaner + WaveFit into one checkpoint: $OUT/restorer
#   START=masked ADVERSARIAL_FROM=0 FINETUNE_NAME=finetune-masked-adv \
#       bash recipes/engine.sh finetune    # WaveFit on the cleaner's mels, cpu discriminator
#   FINETUNE_NAME=finetune-masked-adv bash recipes/engine.sh ship   # into the package, float16
#   bash recipes/engine.sh band ship-band   # the band extension for the shipped engine, shipped
#   bash recipes/engine.sh evaluate        # benchmarks/restore_quality.py with it and the peers
#
# Every training step resumes from its last checkpoint in $OUT (rerun the same command); the
# steps each stage has run are in its train_log.csv. A long run can be launched as
# `bash -c "$(cat recipes/engine.sh)" recipes/engine.sh STEP`: bash then holds the whole script,
# and editing this file does not disturb it.
#
# Where it stands: the shipped restorer (restore/weights/embedded) is vocoder step 5,900 and
# cleaner step 15,200 (merged), then the masked-start adversarial fine-tune stopped at step 600
# (batch 8 x 1.5 s, one CPU core each, OMP_NUM_THREADS=1); the logs of every stage are in
# recipes/train_logs/engine/, the measurements in docs/engine.md. Without runs/engine, go on from the
# shipped weights with INIT=restore/weights/embedded (weights only: optimizers and
# discriminators start afresh). In progress, not shipped: stage 4, WaveFit on the band-limited
# cleaner's mels over natural speech only (docs/engine.md, the command there; its log is
# 4-finetune-c3_train_log.csv), stopped at step 2,000 of 3,000 (float16 weights in git history at
# e7061dc). Measured, not shipped: the fine-tune from the shipped weights with the start they
# restore from (fill: absent), stopped at step 2,010 (5-finetune-absent_train_log.csv; no gain).
# Shipped on top: the band extension (restore/band.py, the `band` step: a fit of ~3 min),
# fitted on the shipped cleaner's output; refit it whenever the cleaner changes.
#
# Training corpus ($DATA, default $OUT/data): Piper's natural US English voice (22.05 kHz: content to 11 kHz)
# and the train split of the recorded Asterisk prompts (recipes/real_speech.sh; 16 kHz, English
# and Spanish: the loss ignores their empty band above 8 kHz). Degraded on the fly by the
# default chain, every degraded crop passed through 16 kHz (--degraded-rate), as FLEURS is, so
# the band above 8 kHz is learnt from the targets that have it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
FLEURSR=${FLEURSR:-.venv/bin/fleursr}
OUT=${OUT:-runs/engine}
SEED=${SEED:-1234}
REAL=${REAL:-runs/real_speech/asterisk}
# the training corpus the data step writes and the training steps read
DATA=${DATA:-$OUT/data}
PIPER_SENTENCES=${PIPER_SENTENCES:-400}
# espeak-ng sentences per language (train split) of the embedded languages the benchmark does not
# hold out, English left to Piper (same sentence ids); 0 leaves espeak-ng out (stages 1-2 did)
ESPEAK_PER_LANGUAGE=${ESPEAK_PER_LANGUAGE:-0}
VOCODER_STEPS=${VOCODER_STEPS:-20000}
CLEANER_STEPS=${CLEANER_STEPS:-20000}
FINETUNE_STEPS=${FINETUNE_STEPS:-10000}
ADVERSARIAL_FROM=${ADVERSARIAL_FROM:-1000000000}  # 0: the cpu discriminator from the start
FINETUNE_NAME=${FINETUNE_NAME:-finetune}
# START=masked: the fine-tune switches WaveFit's start (docs/engine.md), weights unchanged
COMMON="--model recipes/engine.yaml --batch-size 8 --segment-seconds 1.5 --save-every 100"
COMMON+=" --val-every 500 --seed $SEED --degraded-rate 16000 --device cpu"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
# --init for a stage that has no run of its own in $OUT yet
init() { [[ -n "${INIT:-}" && ! -f "$OUT/$1/trainer_state.safetensors" ]] && echo "--init $INIT"; true; }
# espeak-ng speech of the embedded languages the benchmark does not hold out, $1 train sentences each
espeak_corpus() {
    # shellcheck disable=SC2046
    $FLEURSR corpus synth --engine espeak --per-language "$1" --seed "$SEED" --out "$OUT/espeak" \
        --languages $($PY -c "
from fleursr.corpus.languages import EMBEDDED_LANGUAGES, HELD_OUT_LANGUAGES
print(*[c for c in EMBEDDED_LANGUAGES if c not in (*HELD_OUT_LANGUAGES, 'en_us')])")
}
piper_corpus() {
    $FLEURSR corpus synth --engine piper --languages en_us \
        --per-language "$PIPER_SENTENCES" --seed "$SEED" --out "$OUT/piper"
}

for step in "$@"; do
    case "$step" in
        data)
            [ -f "$REAL/manifest.parquet" ] || bash recipes/real_speech.sh "$(dirname "$REAL")"
            piper_corpus
            rm -rf "$DATA" && cp -r "$OUT/piper" "$DATA"
            if (( ESPEAK_PER_LANGUAGE > 0 )); then espeak_corpus "$ESPEAK_PER_LANGUAGE"; fi
            $PY - "$DATA" "$REAL" "$OUT/espeak" "$ESPEAK_PER_LANGUAGE" <<'PYEOF'
import sys

from fleursr.corpus.combine import add_utterances
from fleursr.corpus.manifest import Corpus

target, real = sys.argv[1], Corpus(sys.argv[2])
rows = [u for u in real if u.ok and u.split in ("train", "dev")]
print(f"added {add_utterances(target, real, rows, folder='recorded')} recorded prompts")
if int(sys.argv[4]) > 0:
    espeak = Corpus(sys.argv[3])
    rows = [u for u in espeak if u.ok and u.split == "train"]
    print(f"added {add_utterances(target, espeak, rows, folder='espeak')} espeak-ng utterances")
PYEOF
            $FLEURSR corpus info "$DATA" ;;
        vocoder)  # WaveFit on clean log-mels, starting from the degraded input
            # shellcheck disable=SC2086
            $FLEURSR train vocoder --corpus "$DATA" --out "$OUT/vocoder" $(init vocoder) \
                --steps "$VOCODER_STEPS" --lr 3e-4 --adversarial-from 1000000000 $COMMON ;;
        cleaner)  # the cleaner maps degraded (16 kHz band) log-mels to clean ones
            # shellcheck disable=SC2086
            $FLEURSR train cleaner --corpus "$DATA" --out "$OUT/cleaner" $(init cleaner) \
                --steps "$CLEANER_STEPS" --lr "${CLEANER_LR:-5e-4}" $COMMON ;;
        finetune)  # WaveFit on the cleaner's output: it learns to render what it will be given
            # (the merged restorer: $OUT/restorer, or INIT without one)
            ft=$OUT/$FINETUNE_NAME
            src=$OUT/restorer; [[ -f "$src/model.safetensors" || -f "$ft/trainer_state.safetensors" ]] \
                || src=${INIT:?merge first or set INIT}
            if [[ -n "${START:-}" && ! -f "$ft/trainer_state.safetensors" ]]; then
                # the same weights with WaveFit's start switched (e.g. masked): $OUT/init-$START
                rm -rf "$OUT/init-$START" && cp -r "$src" "$OUT/init-$START" && src=$OUT/init-$START
                $PY - "$src/config.json" "$START" <<'PYEOF'
import json, sys

path, start = sys.argv[1:]
config = json.load(open(path))
config["model"]["vocoder"]["start"] = start
json.dump(config, open(path, "w"), indent=2)
PYEOF
            fi
            init_ft=""; [ -f "$ft/trainer_state.safetensors" ] || init_ft="--init $src"
            # shellcheck disable=SC2086
            $FLEURSR train vocoder --corpus "$DATA" --out "$ft" $init_ft --on cleaned \
                --steps "$FINETUNE_STEPS" --lr 2e-4 --adversarial-from "$ADVERSARIAL_FROM" \
                --discriminator cpu --adversarial-on last $COMMON ;;
        merge)  # the cleaner's run with the vocoder's WaveFit weights: one restorer
            # (MERGE_CLEANER / MERGE_VOCODER / MERGED: other runs, e.g. a fine-tuned pair)
            $PY - "${MERGE_CLEANER:-$OUT/cleaner}" "${MERGE_VOCODER:-$OUT/vocoder}" \
                "${MERGED:-$OUT/restorer}" <<'PYEOF'
import sys

from fleursr.restore.model import Restorer

cleaner, vocoder = (Restorer.from_pretrained(p, device="cpu") for p in sys.argv[1:3])
if cleaner.cfg.to_dict() != vocoder.cfg.to_dict():
    sys.exit(f"{sys.argv[1]} and {sys.argv[2]} are not the same model configuration")
cleaner.vocoder.load_state_dict(vocoder.vocoder.state_dict())
print(f"written {cleaner.save_pretrained(sys.argv[3])}")
PYEOF
            ;;
        ship)  # the fine-tuned restorer into the package as float16 (embedded.sh's ship step)
            SHIPPED_RESTORER="$OUT/$FINETUNE_NAME" bash recipes/embedded.sh ship-restorer ;;
        band)  # the band extension of BAND_MODEL's cleaner (default: the shipped engine), fitted
            # on wide-band speech its training never held out: Piper English and espeak-ng at
            # 22.05 kHz (train splits; the 16 kHz recordings have no band to learn from)
            [ -f "$OUT/piper/manifest.parquet" ] || piper_corpus
            [ -f "$OUT/espeak/manifest.parquet" ] || espeak_corpus "${BAND_ESPEAK_PER_LANGUAGE:-24}"
            $FLEURSR train band --model "${BAND_MODEL:-restore/weights/embedded}" \
                --corpus "$OUT/piper" "$OUT/espeak" --seed "$SEED" --out "$OUT/band" ;;
        ship-band)  # the restorer with its band extension into the package, float16
            SHIPPED_RESTORER="$OUT/band" bash recipes/embedded.sh ship-restorer ;;
        evaluate)
            $PY benchmarks/restore_quality.py --real "$REAL" --espeak \
                --systems "identity,spectral-gating,rnnoise,deepfilternet3,$OUT/$FINETUNE_NAME" \
                --out "$OUT/restore_quality.json" ;;
        *) echo "unknown step: $step (see the header)" >&2; exit 2 ;;
    esac
done
