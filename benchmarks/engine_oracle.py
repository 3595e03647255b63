"""Where a restorer's remaining distance to clean speech comes from: the cleaner or WaveFit.

For the recorded test prompts of a degraded twin (``restore_quality.py`` writes one under
``runs/restore_quality``), a restorer whose WaveFit starts from its input renders each utterance
four ways: conditioned on the cleaner's mel (what it does) or on the clean recording's own mel
(an oracle cleaner), each with its trained per-step network or with the network's output zeroed
(the start alone). DNSMOS OVRL and the log-mel distance to the clean recording of each, beside
the degraded input's and the clean recording's DNSMOS. The gap between "cleaned" and "oracle" is
the cleaner's; the gap between "oracle" and the clean recording is WaveFit's.

    python benchmarks/engine_oracle.py --model restore/weights/embedded \
        --twin runs/restore_quality/asterisk_degraded_16k
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from restore_quality import test_rows
from results_io import write_result

from fleursr.corpus.audio import resample
from fleursr.corpus.manifest import Corpus
from fleursr.jobs.experiments.evaluate import _MEL, RATE, log_mel_distance
from fleursr.nn import MelSpectrogram
from fleursr.quality.mos import build_mos
from fleursr.restore.model import Restorer

OUT_RATE = 24000


@torch.inference_mode()
def render(model: Restorer, degraded: np.ndarray, clean: np.ndarray) -> dict[str, np.ndarray]:
    """Both 24 kHz ``(samples,)``; the four renderings at 24 kHz."""
    n = min(len(degraded), len(clean))
    target, ref = (torch.from_numpy(np.ascontiguousarray(x[:n]))[None] for x in (clean, degraded))
    lengths = torch.tensor([n])
    oracle, _ = model.features(target, lengths)
    cleaned = model.cleaner(model.features(ref, lengths)[0], None)
    out, vocoder = {}, model.vocoder
    saved = [t.clone() for t in (vocoder.generator.out.weight, vocoder.generator.out.bias)]
    for network in ("trained", "zeroed"):
        if network == "zeroed":
            for t in (vocoder.generator.out.weight, vocoder.generator.out.bias):
                t.zero_()
        for name, feats in (("cleaned", cleaned), ("oracle", oracle)):
            seed = torch.Generator().manual_seed(0)
            out[f"{name} mel, {network} network"] = vocoder(feats, reference=ref, generator=seed)[0]
    for t, s in zip((vocoder.generator.out.weight, vocoder.generator.out.bias), saved):
        t.copy_(s)
    return {k: v.numpy() for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="restore/weights/embedded", help="a restorer directory")
    ap.add_argument("--twin", default="runs/restore_quality/asterisk_degraded_16k")
    ap.add_argument("--per-language", type=int, default=12)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="benchmarks/results/engine_oracle.json")
    args = ap.parse_args()
    started = time.perf_counter()
    torch.set_num_threads(args.threads)
    model = Restorer.from_pretrained(args.model, device="cpu").eval()
    if not model.vocoder.uses_reference:
        ap.error(f"{args.model}: its WaveFit does not start from its input (start degraded/masked)")
    corpus, mel = Corpus(args.twin), MelSpectrogram(_MEL)
    mos = build_mos("dnsmos", num_threads=args.threads)
    versions: dict[str, list[np.ndarray]] = {"clean recording": [], "degraded input": []}
    distances: dict[str, list[float]] = {"clean recording": [], "degraded input": []}
    for utt in test_rows(args.twin, args.per_language):
        wave, sr = corpus.load_audio(utt)
        clean, clean_sr = corpus.load_reference(utt.extra["clean_path"])
        clean16 = resample(clean, clean_sr, RATE)
        renders = render(model, resample(wave, sr, OUT_RATE), resample(clean, clean_sr, OUT_RATE))
        renders = {k: resample(v, OUT_RATE, RATE) for k, v in renders.items()}
        for name, x in {"clean recording": clean16, "degraded input": resample(wave, sr, RATE),
                        **renders}.items():  # fmt: skip
            versions.setdefault(name, []).append(x)
            distances.setdefault(name, []).append(log_mel_distance(x, clean16, mel))
    rows = []
    print("| version | DNSMOS OVRL | log-mel distance |\n|---|---|---|")
    for name, waves in versions.items():
        score = float(np.mean([s["dnsmos_ovrl"] for s in mos.predict(waves, RATE)]))
        rows.append({"version": name, "utterances": len(waves), "dnsmos": score,
                     "log_mel": float(np.mean(distances[name]))})  # fmt: skip
        print(f"| {name} | {score:.3f} | {rows[-1]['log_mel']:.3f} |")
    write_result(args.out, "engine_oracle", rows, model=args.model, twin=args.twin,
                 wall_seconds=round(time.perf_counter() - started, 1))  # fmt: skip


if __name__ == "__main__":
    main()
