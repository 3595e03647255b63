"""How the shipped voice reads English it never trained on, as a user hears it.

The voice (default: the shipped one) reads held-out English sentences (the test split of the
Piper sentences, ``PIPER_SENTENCES`` of ``recipes/tts.sh``) in its default English speaker,
through ``fleursr tts say``'s path (``load_synthesizer``), rendered by a restorer's WaveFit;
Whisper base reads them back (CER) and DNSMOS OVRL scores them. Each setting of WaveFit's
Griffin-Lim start (its iterations: the only start a TTS mel has, with no recording) runs over
several vocoder seeds, so the spread the random start makes is in the table:

    python benchmarks/tts_voice.py --sentences 60 --iterations 16 32 64 --seeds 0 1 2

Prints a table and writes JSON (``benchmarks/results/tts_voice.json``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from results_io import write_result

from fleursr.jobs.vocoders import load_synthesizer
from fleursr.quality.asr import load_asr
from fleursr.quality.cer import cer_by_language
from fleursr.quality.mos import build_mos
from fleursr.synth.corpus import split_sentences
from fleursr.synth.sentences import make_sentence
from fleursr.tts.vocoder import MelVocoder


def held_out_english(n: int, sentences: int = 2000, seed: int = 0) -> list[str]:
    """The first ``n`` test-split sentences of the voice's Piper English corpus."""
    ids = [i for i, split in split_sentences(sentences, seed).items() if split == "test"][:n]
    return [make_sentence("en_us", i, seed)[0] for i in ids]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--voice", default="embedded")
    ap.add_argument("--vocoder", default="embedded", help="a restorer whose WaveFit renders")
    ap.add_argument("--sentences", type=int, default=60)
    ap.add_argument("--iterations", type=int, nargs="+", default=[16, 32, 64],
                    help="Griffin-Lim iterations of WaveFit's start")  # fmt: skip
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="benchmarks/results/tts_voice.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    texts = held_out_english(args.sentences)
    langs = ["en_us"] * len(texts)
    synth = load_synthesizer(args.voice, vocoder=args.vocoder)
    if not isinstance(synth.vocoder, MelVocoder):
        raise SystemExit(f"{args.vocoder}: not a WaveFit vocoder of the voice's mel")
    shipped = synth.vocoder.vocoder.config.start_iterations
    asr, mos = load_asr("faster-whisper", "cpu"), build_mos("dnsmos")
    sr, rows = synth.sample_rate, []
    for iterations in args.iterations:
        for seed in args.seeds:
            synth.vocoder.vocoder.config.start_iterations = iterations
            synth.vocoder.seed = seed
            start = time.perf_counter()
            waves = synth.say(texts, langs)
            seconds = time.perf_counter() - start
            hyps = asr.transcribe(waves, langs, sr=sr)
            audio = sum(len(w) for w in waves) / sr
            rows.append({
                "iterations": iterations, "seed": seed, "sentences": len(texts),
                "cer": round(cer_by_language(list(zip(langs, texts, hyps)))["en_us"], 4),
                "dnsmos_ovrl": round(float(np.mean([s["dnsmos_ovrl"]
                                                    for s in mos.predict(waves, sr=sr)])), 3),
                "chars_per_second": round(sum(len(t) for t in texts) / audio, 2),
                "real_time": round(audio / seconds, 1),
            })  # fmt: skip
            r = rows[-1]
            print(f"iterations {iterations} seed {seed}: CER {r['cer']:.3f} DNSMOS "
                  f"{r['dnsmos_ovrl']:.2f} ({r['real_time']}x real time)", flush=True)  # fmt: skip
    print("\n| start iterations | CER, mean (min-max over seeds) | DNSMOS OVRL, mean (min-max) "
          "| rendering, x real time |\n|---|---|---|---|")  # fmt: skip
    for iterations in args.iterations:
        own = [r for r in rows if r["iterations"] == iterations]
        cer, ovrl = ([r[k] for r in own] for k in ("cer", "dnsmos_ovrl"))
        mark = " (shipped)" if iterations == shipped else ""
        print(f"| {iterations}{mark} | {np.mean(cer):.3f} ({min(cer):.3f}-{max(cer):.3f}) | "
              f"{np.mean(ovrl):.2f} ({min(ovrl):.2f}-{max(ovrl):.2f}) | "
              f"{np.mean([r['real_time'] for r in own]):.0f} |")  # fmt: skip
    write_result(args.out, "tts_voice", rows, voice=args.voice, vocoder=args.vocoder,
                 shipped_iterations=shipped, asr="whisper base", threads=args.threads)  # fmt: skip


if __name__ == "__main__":
    main()
