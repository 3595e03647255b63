#!/usr/bin/env bash
# The shipped embedded models, reproduced from nothing (CPU is enough; a GPU is faster).
#
#   bash recipes/embedded.sh corpus asr vocoder cleaner finetune tts-data tts \
#       ship-restorer ship-tts eval-data evaluate     # every step, in order
#
# `asr` trains the embedded character CTC ASR; it no longer ships (trained on espeak-ng speech it
# recognized nothing of real speech): the TTS comparison and the evaluation score CER with
# ASR_SPEC, default `auto` (Whisper base through faster-whisper where installed).
#   SMALL=1 OUT=/tmp/r bash recipes/embedded.sh ...  # a few steps each: checks the recipe runs
#
# Run as in the README's results (2 CPU cores, every training at OMP_NUM_THREADS=1): `asr` in
# one process, `vocoder cleaner finetune` in another, then `tts-data tts`, then the rest.
#
# Languages held out of all training (fleursr.corpus.languages.HELD_OUT_LANGUAGES: sw_ke, uk_ua,
# ur_pk, ms_my) so the results include languages the models never heard.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
FLEURSR=${FLEURSR:-.venv/bin/fleursr}
OUT=${OUT:-runs/embedded}
SEED=${SEED:-1234}
HELD_OUT=$($PY -c "from fleursr.corpus.languages import HELD_OUT_LANGUAGES as h; print(*h)")
TRAIN_LANGUAGES=$($PY -c "
from fleursr.corpus.languages import EMBEDDED_LANGUAGES, HELD_OUT_LANGUAGES
print(*(c for c in EMBEDDED_LANGUAGES if c not in HELD_OUT_LANGUAGES))")
if [[ -n "${SMALL:-}" ]]; then
    PER_LANGUAGE=${PER_LANGUAGE:-3}
    TRAIN_LANGUAGES="en_us fr_fr hi_in"
    ASR_ARGS="--model tiny --steps 4 --batch-size 2 --eval-every 4 --save-every 4 --warmup-steps 1"
    ASR2_ARGS="--model tiny --steps 2 --batch-size 2 --eval-every 2 --save-every 2 --warmup-steps 1"
    RESTORER="--model tiny --batch-size 2 --save-every 2 --val-every 2"
    VOCODER_STEPS=2; CLEANER_STEPS=2; FINETUNE_STEPS=2
    TTS_LANGUAGES="en_us fr_fr"
    TTS_ARGS="--config tiny --steps 2 --batch-size 2 --seed $SEED"
    TTS_SENTENCES=1; EVAL_LANGUAGES="en_us sw_ke"; EVAL_LIMIT=1; TTS_WARMUP=1
    ASR_SPEC=${ASR_SPEC:-$OUT/asr2}  # the tiny ASR just trained: fast, and checks it loads
else
    PER_LANGUAGE=${PER_LANGUAGE:-150}
    # Two phases: noise-augmented (recognize degraded originals), then clean audio with a fresh
    # learning-rate schedule (CTC's blank plateau; see docs/embedded-models.md).
    ASR_ARGS="--model embedded --steps ${ASR_STEPS:-800} --batch-size 16 --lr 1.5e-3"
    ASR_ARGS+=" --warmup-steps 200 --eval-every 200 --save-every 200"
    ASR2_ARGS="--model embedded --steps ${ASR2_STEPS:-600} --batch-size 16 --lr 1.5e-3"
    ASR2_ARGS+=" --warmup-steps 50 --eval-every 200 --save-every 100"
    # The restorer on CPU: 1.5 s crops, batch 8, spectral losses only (the adversarial terms'
    # multi-resolution discriminator costs ~20 s a step on one core; set ADVERSARIAL_FROM to
    # a step below VOCODER_STEPS where a GPU makes them affordable).
    RESTORER="--model embedded --batch-size 8 --segment-seconds 1.5 --save-every 250"
    RESTORER+=" --val-every 500"
    VOCODER_STEPS=${VOCODER_STEPS:-1200}; CLEANER_STEPS=${CLEANER_STEPS:-1500}
    FINETUNE_STEPS=${FINETUNE_STEPS:-400}
    # The voice speaks the demo's seen languages (fleursr.corpus.languages.DEMO_LANGUAGES).
    TTS_LANGUAGES=$($PY -c "
from fleursr.corpus.languages import DEMO_LANGUAGES, HELD_OUT_LANGUAGES
print(*(c for c in DEMO_LANGUAGES if c not in HELD_OUT_LANGUAGES))")
    TTS_ARGS="--config embedded --steps ${TTS_STEPS:-200} --batch-size 8 --seed $SEED"
    TTS_SENTENCES=5; EVAL_LANGUAGES=all; EVAL_LIMIT=${EVAL_LIMIT:-2}; TTS_WARMUP=100
fi
# The restorer that ships and that the TTS data and the results use: the cleaner stage's
# checkpoint. On CPU budgets the fine-tune stage (400 steps, spectral losses only) made both the
# log-mel distance and DNSMOS worse (docs/embedded-models.md); with a GPU and adversarial
# losses, run `finetune` and set SHIPPED_RESTORER=$OUT/restorer.
RESTORER_DIR=${SHIPPED_RESTORER:-$OUT/cleaner}
SHIP=${SHIP:-.}  # where ship-* write the package's weights folders (the repository root)
ADVERSARIAL_FROM=${ADVERSARIAL_FROM:-1000000000}
ASR_SPEC=${ASR_SPEC:-auto}

# A checkpoint into the package: config.json + float16 weights (half the bytes; they load into
# the float32 model unchanged in shape).
ship() {
    mkdir -p "$2"
    cp "$1/config.json" "$2/"
    $PY -c "
import sys
from safetensors.torch import load_file, save_file
state = load_file(sys.argv[1])
save_file({k: v.half() if v.is_floating_point() else v for k, v in state.items()}, sys.argv[2])
" "$1/model.safetensors" "$2/model.safetensors"
    chmod 644 "$2/config.json" "$2/model.safetensors"
}

for step in "$@"; do
    case "$step" in
        corpus)  # the clean training corpus: espeak-ng, fixed seed, held-out languages left out
            # shellcheck disable=SC2086
            $FLEURSR corpus synth --out "$OUT/clean" --languages $TRAIN_LANGUAGES \
                --per-language "$PER_LANGUAGE" --seed "$SEED" ;;
        asr)  # the embedded character CTC ASR: noise-augmented, then on clean audio; resumes
            # shellcheck disable=SC2086
            $FLEURSR train asr --corpus "$OUT/clean" --out "$OUT/asr" --seed "$SEED" $ASR_ARGS
            # shellcheck disable=SC2086
            $FLEURSR train asr --corpus "$OUT/clean" --out "$OUT/asr2" --init "$OUT/asr" \
                --seed "$SEED" --augment none $ASR2_ARGS ;;
        vocoder)  # restorer stage 1: WaveFit renders clean log-mels
            # shellcheck disable=SC2086
            $FLEURSR train vocoder --corpus "$OUT/clean" --out "$OUT/vocoder" --seed "$SEED" \
                --steps "$VOCODER_STEPS" --lr 3e-4 --adversarial-from "$ADVERSARIAL_FROM" \
                $RESTORER ;;
        cleaner)  # stage 2: the Conformer cleaner maps degraded log-mels to clean ones
            # shellcheck disable=SC2086
            $FLEURSR train cleaner --corpus "$OUT/clean" --out "$OUT/cleaner" --seed "$SEED" \
                --init "$OUT/vocoder" --steps "$CLEANER_STEPS" --lr 5e-4 $RESTORER ;;
        finetune)  # stage 3: WaveFit fine-tuned on what the cleaner gives it
            # shellcheck disable=SC2086
            $FLEURSR train vocoder --corpus "$OUT/clean" --out "$OUT/restorer" --seed "$SEED" \
                --init "$OUT/cleaner" --on cleaned --steps "$FINETUNE_STEPS" --lr 3e-4 \
                --adversarial-from "$ADVERSARIAL_FROM" $RESTORER ;;
        ship-restorer)  # the restorer into the package (float16 weights)
            ship "$RESTORER_DIR" "$SHIP/restore/weights/embedded" ;;
        tts-data)  # the TTS corpora: the voice's languages of the same corpus (same seed, same
            # utterances), their degraded twin, and the twin restored by the trained restorer
            # shellcheck disable=SC2086
            $FLEURSR corpus synth --out "$OUT/tts-data/clean" --languages $TTS_LANGUAGES \
                --per-language "$PER_LANGUAGE" --seed "$SEED"
            $FLEURSR degrade "$OUT/tts-data/clean" "$OUT/tts-data/degraded" --seed "$SEED"
            $FLEURSR restore-corpus "$OUT/tts-data/degraded" "$OUT/tts-data/restored" \
                --model "$RESTORER_DIR" ;;
        tts)  # the same voice trained on the degraded and on the restored corpus (side by side),
            # then compared on held-out sentences (the shipped WaveFit renders both)
            pids=()
            for arm in original restored; do
                data="$OUT/tts-data/degraded"; [[ $arm == restored ]] && data="$OUT/tts-data/restored"
                # shellcheck disable=SC2086
                $FLEURSR tts train --data "$data" --out "$OUT/tts/$arm/model" $TTS_ARGS \
                    --warmup-steps "$TTS_WARMUP" --save-every 100 > "$OUT/tts-$arm.log" 2>&1 &
                pids+=($!)
            done
            for pid in "${pids[@]}"; do wait "$pid"; done
            # shellcheck disable=SC2086
            $FLEURSR tts compare --original "$OUT/tts-data/degraded" \
                --restored "$OUT/tts-data/restored" --out "$OUT/tts" $TTS_ARGS \
                --vocoder "$RESTORER_DIR" --asr "$ASR_SPEC" --per-language "$TTS_SENTENCES" \
                --mos dnsmos-fast ;;
        ship-tts)  # the voice trained on the restored corpus into the package (SHIPPED_TTS:
            # recipes/tts.sh's natural-speech voice)
            ship "${SHIPPED_TTS:-$OUT/tts/restored/model}" "$SHIP/tts/weights/embedded" ;;
        eval-data)  # the results' corpus: every embedded language (held-out ones too), same
            # seed, so the seen languages' test split is the one the models never trained on
            LANGS=$EVAL_LANGUAGES
            [[ $LANGS == all ]] && LANGS=$($PY -c "
from fleursr.corpus.languages import EMBEDDED_LANGUAGES; print(*EMBEDDED_LANGUAGES)")
            # shellcheck disable=SC2086
            $FLEURSR corpus synth --out "$OUT/eval/clean" --languages $LANGS \
                --per-language "$PER_LANGUAGE" --seed "$SEED"
            $FLEURSR degrade "$OUT/eval/clean" "$OUT/eval/degraded" --seed "$SEED" ;;
        evaluate)  # the README's results table: test split, seen vs held-out languages
            # shellcheck disable=SC2086
            $FLEURSR evaluate "$OUT/eval/degraded" --out "$OUT/eval/results" \
                --model "$RESTORER_DIR" --asr "$ASR_SPEC" --held-out $HELD_OUT \
                --limit "$EVAL_LIMIT" --mos dnsmos-fast ;;
        languages)  # what the models train on, and what they never see
            echo "train: $TRAIN_LANGUAGES"
            echo "held out: $HELD_OUT" ;;
        *) echo "unknown step: $step (see the header)" >&2; exit 2 ;;
    esac
done
