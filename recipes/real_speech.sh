#!/usr/bin/env bash
# Real recorded speech: the Asterisk prompt packs (one professional speaker, Allison Smith,
# reading ~550 English and ~480 Spanish telephony prompts; CC-BY-SA-3.0), imported as one corpus.
#
#   bash recipes/real_speech.sh [OUT_DIR]      # default OUT_DIR: runs/real_speech
#
# Fetches the Debian packages with `apt-get download` (no root, nothing installed: the .deb files
# are unpacked with `dpkg-deb -x` into a cache folder), then writes OUT_DIR/asterisk: both
# languages in one corpus (en_us and es_419 rows), because every later stage (degrade, restore,
# score, filter, report, the restoration benchmark) takes one corpus and already reports per
# language, and one split for both: 7:1:2 by a hash of the prompt's name, so a prompt and its
# translation never sit in different splits. Audio: G.722 at 16 kHz decoded to FLAC.
#
#   asterisk-core-sounds-{en,es}        transcripts (core-sounds-LANG.txt.gz)
#   asterisk-core-sounds-{en,es}-g722   audio, raw G.722, 16 kHz (Debian's -wav and -gsm variants are 8 kHz)
#
# CACHE_DIR (default ~/.cache/fleursr/asterisk) keeps the .deb files and their unpacked tree.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
FLEURSR=${FLEURSR:-.venv/bin/fleursr}
OUT=${1:-${OUT:-runs/real_speech}}
CACHE=${CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/fleursr/asterisk}
PACKAGES=(asterisk-core-sounds-en asterisk-core-sounds-en-g722
          asterisk-core-sounds-es asterisk-core-sounds-es-g722)

mkdir -p "$CACHE/debs" "$OUT"
missing=()
for p in "${PACKAGES[@]}"; do
    compgen -G "$CACHE/debs/${p}_*.deb" >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || {
        echo "error: apt-get is needed to fetch ${missing[*]} (or put their .deb files in" \
             "$CACHE/debs; see https://packages.debian.org/source/stable/asterisk-core-sounds)" >&2
        exit 1
    }
    echo "downloading ${missing[*]} into $CACHE/debs"
    (cd "$CACHE/debs" && apt-get download "${missing[@]}") || {
        echo "error: apt-get download failed; run 'sudo apt-get update' first (the packages are" \
             "in Debian main)" >&2
        exit 1
    }
fi

ROOT="$CACHE/root"
rm -rf "$ROOT.tmp" && mkdir -p "$ROOT.tmp"
for p in "${PACKAGES[@]}"; do
    deb=$(ls "$CACHE/debs/${p}"_*.deb | sort -V | tail -n 1)
    echo "unpacking $(basename "$deb")"
    dpkg-deb -x "$deb" "$ROOT.tmp"
done
rm -rf "$ROOT" && mv "$ROOT.tmp" "$ROOT"

# The corpus folder is this recipe's own: rebuilt from scratch so no stale file survives.
rm -rf "$OUT/asterisk"
"$FLEURSR" corpus import "$ROOT" --out "$OUT/asterisk" --format asterisk

"$PY" - "$OUT/asterisk" <<'EOF'
import sys

from fleursr.corpus.manifest import Corpus

t = Corpus(sys.argv[1]).table(columns=["language", "split", "num_samples", "sampling_rate"])
t = t.to_pandas()
t["hours"] = t.num_samples / t.sampling_rate / 3600
print(f"\n{'language':<10}{'split':<7}{'utterances':>11}{'minutes':>9}")
for (lang, split), g in t.groupby(["language", "split"]):
    print(f"{lang:<10}{split:<7}{len(g):>11}{g.hours.sum() * 60:>9.1f}")
for lang, g in t.groupby("language"):
    print(f"{lang:<10}{'all':<7}{len(g):>11}{g.hours.sum() * 60:>9.1f}")
print(f"{'total':<17}{len(t):>11}{t.hours.sum() * 60:>9.1f}  ({t.hours.sum():.2f} h)")
EOF
echo "skipped prompts (non-speech, no audio, no transcript): $OUT/asterisk/audio/*/skipped.tsv"
