"""How well the TTS corpora's own recordings read: the ceiling each TTS voice learns under.

The TTS comparison (``recipes/tts.sh look``) scores what the voices say on the held-out
sentences; this scores the recordings of those same sentences in each twin of the corpus
(clean, degraded, restored) with the same ASR and MOS predictor, per language:

    python benchmarks/tts_references.py --languages en_us

Prints a table (CER pooled over characters, mean DNSMOS OVRL) and writes JSON
(``benchmarks/results/tts_references.json``).
"""

from __future__ import annotations

import argparse

import numpy as np
from results_io import write_result

from fleursr.corpus.manifest import Corpus
from fleursr.jobs.experiments.tts_compare import held_out
from fleursr.quality.asr import load_asr
from fleursr.quality.cer import cer_by_language
from fleursr.quality.mos import build_mos

RATE = 16000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", nargs="+", default=["runs/tts/clean", "runs/tts/degraded",
                                                     "runs/tts/restored"])  # fmt: skip
    ap.add_argument("--languages", nargs="+", default=["en_us"])
    ap.add_argument("--per-language", type=int, default=20, help="as the comparison's")
    ap.add_argument("--out", default="benchmarks/results/tts_references.json")
    args = ap.parse_args()
    asr, mos = load_asr("faster-whisper", "cpu"), build_mos("dnsmos")
    rows = []
    for root in args.corpora:
        corpus = Corpus(root)
        by_id = {u.id: u for u in corpus}
        picked = [s for s in held_out(corpus, "test", args.per_language)
                  if s["language"] in args.languages]  # fmt: skip
        waves = [corpus.load_audio(by_id[s["id"]], target_sr=RATE)[0] for s in picked]
        langs = [s["language"] for s in picked]
        hyps = asr.transcribe(waves, langs, sr=RATE)
        cers = cer_by_language([(s["language"], s["text"], h) for s, h in zip(picked, hyps)])
        scores = [x["dnsmos_ovrl"] for x in mos.predict(waves, sr=RATE)]
        for language in sorted(set(langs)):
            own = [m for m, lang in zip(scores, langs) if lang == language]
            rows.append({"corpus": root, "language": language, "sentences": len(own),
                         "cer": round(cers[language], 4),
                         "dnsmos_ovrl": round(float(np.mean(own)), 3)})  # fmt: skip
    print("| corpus | language | sentences | CER | DNSMOS OVRL |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['corpus']} | {r['language']} | {r['sentences']} | {r['cer']:.3f} | "
              f"{r['dnsmos_ovrl']:.2f} |")  # fmt: skip
    write_result(
        args.out, "tts_references", rows, per_language=args.per_language, asr="whisper base"
    )


if __name__ == "__main__":
    main()
