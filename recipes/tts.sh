#!/usr/bin/env bash
# The shipped TTS voice and the FLEURS-R TTS experiment, on natural speech (docs/tts.md).
#
#   bash recipes/tts.sh data train compare ship      # every step, in order
#
# data     the voice's corpus, clean: Piper's natural US English voice (PIPER_SENTENCES), the
#          recorded Asterisk prompts in English and Spanish (recipes/real_speech.sh), festival's
#          Catalan HTS voice (FESTIVAL_SENTENCES) and espeak-ng in ESPEAK_LANGUAGES for breadth
#          (ESPEAK_SENTENCES each); then its degraded twin (the default chain, written at 16 kHz
#          as FLEURS is) and the twin restored by the shipped restorer (RESTORER).
# restore  the restored twin alone, again, from the degraded twin as it stands (after a new
#          restorer ships; `data` rebuilds all three, the same every run since Piper is seeded).
# train    the same voice, budget and seed on the degraded and on the restored corpus, side by
#          side, one core each, into OUT/compare/{original,restored}/model (TTS_STEPS in all, the
#          learning-rate schedule's length; each resumes from its folder, so a stopped run goes
#          on where it stopped when `train` runs again). A finished voice is calibrated: each
#          language's speaking time set to its training recordings' (`fleursr tts calibrate`).
#          ARMS="restored" trains that arm alone (the degraded arm does not depend on the
#          restorer: after a re-ship its finished voice stays).
# compare  both voices read the held-out sentences (test split), rendered by the shipped
#          restorer's WaveFit; Whisper base CER, DNSMOS, durations against the recordings, the
#          table, the plots and the listening page (OUT/compare/index.html).
# look     compare as above, the voices as they stand (while `train` runs in another process),
#          calibrated first; also for voices restored from git without their training state
#          (`compare` refuses those: training them again would restart their schedule).
# ship     the voice trained on the restored corpus into the package (float16), calibrated
#          first (for a voice stopped before TTS_STEPS).
#
#   SMALL=1 OUT=/tmp/t bash recipes/tts.sh data train compare   # a few of everything (no
#   restoration, Griffin-Lim: it checks the recipe runs)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
FLEURSR=${FLEURSR:-.venv/bin/fleursr}
OUT=${OUT:-runs/tts}
SEED=${SEED:-0}
REAL=${REAL:-runs/real_speech/asterisk}
RESTORER=${RESTORER:-embedded}
VOCODER=${VOCODER:-$RESTORER}  # renders both voices: a restorer of the voices' mel, or griffin-lim
PIPER_SENTENCES=${PIPER_SENTENCES:-2000}
FESTIVAL_SENTENCES=${FESTIVAL_SENTENCES:-600}
ESPEAK_SENTENCES=${ESPEAK_SENTENCES:-150}
ESPEAK_LANGUAGES=${ESPEAK_LANGUAGES:-fr_fr de_de ru_ru hi_in}
TTS_STEPS=${TTS_STEPS:-12000}
TTS_ARGS=${TTS_ARGS:-"--config embedded --batch-size 16"}  # both arms, training and comparison
TRAIN_ARGS=${TRAIN_ARGS:-"--warmup-steps 1000 --save-every 250"}
PER_LANGUAGE=${PER_LANGUAGE:-20}  # held-out sentences per language in the comparison
ARMS=${ARMS:-"original restored"}  # the voices `train` trains
if [[ -n "${SMALL:-}" ]]; then
    PIPER_SENTENCES=10; FESTIVAL_SENTENCES=10; ESPEAK_SENTENCES=10; ESPEAK_LANGUAGES=fr_fr
    TTS_STEPS=2; TTS_ARGS="--config tiny --batch-size 2"; TRAIN_ARGS="--warmup-steps 1 --save-every 1"
    PER_LANGUAGE=1; RESTORER=${SMALL_RESTORER:-identity}; VOCODER=griffin-lim
fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

calibrate() {  # each voice's speaking time set to its corpus' (`tts train` does it at its end)
    for arm in original restored; do
        data="$OUT/degraded"; [[ $arm == restored ]] && data="$OUT/restored"
        $FLEURSR tts calibrate --model "$OUT/compare/$arm/model" --data "$data"
    done
}

restore_twin() {  # the degraded twin through the restorer
    $FLEURSR restore-corpus "$OUT/degraded" "$OUT/restored" --model "$RESTORER"
    $FLEURSR corpus info "$OUT/restored"
}

for step in "$@"; do
    case "$step" in
        data)
            [ -f "$REAL/manifest.parquet" ] || bash recipes/real_speech.sh "$(dirname "$REAL")"
            $FLEURSR corpus synth --engine piper --languages en_us \
                --per-language "$PIPER_SENTENCES" --seed "$SEED" --out "$OUT/piper"
            $FLEURSR corpus synth --engine festival --languages ca_es \
                --per-language "$FESTIVAL_SENTENCES" --seed "$SEED" --out "$OUT/festival"
            # shellcheck disable=SC2086
            $FLEURSR corpus synth --engine espeak --languages $ESPEAK_LANGUAGES \
                --per-language "$ESPEAK_SENTENCES" --seed "$SEED" --out "$OUT/espeak"
            rm -rf "$OUT/clean" && cp -r "$OUT/piper" "$OUT/clean"
            $PY - "$OUT/clean" "$REAL" "$OUT/festival" "$OUT/espeak" <<'PYEOF'
import sys

from fleursr.corpus.combine import add_utterances
from fleursr.corpus.manifest import Corpus

target = sys.argv[1]
for source, folder in zip(sys.argv[2:], ("recorded", "festival", "espeak")):
    corpus = Corpus(source)
    added = add_utterances(target, corpus, [u for u in corpus if u.ok], folder=folder)
    print(f"added {added} utterances of {source}")
PYEOF
            rm -rf "$OUT/degraded" "$OUT/restored"
            $FLEURSR degrade "$OUT/clean" "$OUT/degraded" --seed "$SEED" --rate 16000
            restore_twin ;;
        restore)
            rm -rf "$OUT/restored" && restore_twin ;;
        train)
            pids=()
            for arm in $ARMS; do
                data="$OUT/degraded"; [[ $arm == restored ]] && data="$OUT/restored"
                # shellcheck disable=SC2086
                $FLEURSR tts train --data "$data" --out "$OUT/compare/$arm/model" \
                    --steps "$TTS_STEPS" --seed "$SEED" $TTS_ARGS $TRAIN_ARGS \
                    >> "$OUT/train-$arm.log" 2>&1 &
                pids+=($!)
            done
            for pid in "${pids[@]}"; do wait "$pid"; done ;;
        compare|look)  # look: the voices as they stand, while `train` goes on
            no_train=(); [[ $step == look ]] && no_train=(--no-train)
            [[ $step == look ]] && calibrate
            # shellcheck disable=SC2086
            $FLEURSR tts compare --original "$OUT/degraded" --restored "$OUT/restored" \
                --out "$OUT/compare" --steps "$TTS_STEPS" --seed "$SEED" "${no_train[@]}" \
                $TTS_ARGS --vocoder "$VOCODER" --per-language "$PER_LANGUAGE" ;;
        ship)  # embedded.sh's ship step (float16 weights), calibrated where stopped early
            calibrate
            SHIPPED_TTS="$OUT/compare/restored/model" bash recipes/embedded.sh ship-tts ;;
        *)
            echo "unknown step: $step" >&2
            exit 2 ;;
    esac
done
