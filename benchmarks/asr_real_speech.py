"""CER and speed of the offline Whisper base (faster-whisper, CTranslate2) on real recorded speech.

The corpus is the Asterisk prompt packs that ``bash recipes/real_speech.sh`` imports (studio
recordings of one US English and one Latin American Spanish voice, with their transcripts); the
test split, clean audio. CER is total edits over total reference characters per language
(``fleursr.quality.cer``); x real time is seconds of audio per second of wall time, model
loading excluded, transcribing through ``ASR.transcribe`` as ``fleursr score`` does. Prints a
table and writes JSON.

    .venv/bin/python benchmarks/asr_real_speech.py [--corpus runs/real_speech/asterisk]
        [--split test] [--beams 1 5] [--batch-size 8] [--threads 2] [--limit N]
"""

from __future__ import annotations

import argparse
import time

from results_io import write_result

from fleursr.corpus.manifest import Corpus
from fleursr.quality.asr.faster_whisper import FasterWhisperASR
from fleursr.quality.cer import corpus_cer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", default="runs/real_speech/asterisk")
    ap.add_argument("--split", default="test")
    ap.add_argument("--beams", type=int, nargs="+", default=[1, 5])
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2, help="CTranslate2 CPU threads")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--limit", type=int, help="at most this many utterances per language")
    ap.add_argument("--out", default="benchmarks/results/asr_real_speech.json")
    args = ap.parse_args()

    corpus = Corpus(args.corpus)
    by_language: dict[str, list] = {}
    for utt in corpus:
        if utt.split == args.split and utt.ok and utt.transcription:
            group = by_language.setdefault(utt.language, [])
            if args.limit is None or len(group) < args.limit:
                group.append(utt)
    rows = []
    for beam in args.beams:
        asr = FasterWhisperASR(device=args.device, cpu_threads=args.threads, beam_size=beam)
        for language, utts in sorted(by_language.items()):
            waves = [corpus.load_audio(u, target_sr=16000)[0] for u in utts]
            seconds = sum(len(w) for w in waves) / 16000
            start = time.perf_counter()
            texts = asr.transcribe(waves, language, batch_size=args.batch_size)
            wall = time.perf_counter() - start
            rows.append({
                "asr": asr.name, "compute_type": asr.compute_type, "threads": asr.cpu_threads,
                "beam_size": beam, "batch_size": args.batch_size, "language": language,
                "utterances": len(utts), "audio_seconds": round(seconds, 1),
                "cer": round(corpus_cer(zip((u.transcription for u in utts), texts)), 4),
                "x_real_time": round(seconds / wall, 2),
            })  # fmt: skip
            r = rows[-1]
            print(f"{r['asr']:<28} beam {beam}  {language:<7} {r['utterances']:>4} utts "
                  f"{r['audio_seconds']:>7.1f} s  CER {r['cer']:.4f}  "
                  f"{r['x_real_time']:.1f}x RT")  # fmt: skip
    write_result(args.out, "asr_real_speech", rows, corpus=args.corpus, split=args.split,
                 device=args.device)  # fmt: skip


if __name__ == "__main__":
    main()
