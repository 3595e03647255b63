"""Speed of the TTS baseline: training steps per second and synthesis real-time factor.

Training: the acoustic model at each size on a synthetic batch (``--batch`` utterances of
``--seconds`` of 24 kHz log-mel, ~15 characters a second of text), forward with monotonic
alignment search, backward and an AdamW step. Synthesis: one ~100-character sentence, with the
duration predictor's output set to ~6 frames a character (the speaking rate of the embedded
corpus) so the output has a realistic length; the acoustic model alone, then with the vocoder
(WaveFit of a random restoration model of the same size, and Griffin-Lim). RTF = wall seconds
per second of audio, from the fastest timed run after one warm-up run. CPU (torch's default
thread count) always; CUDA too when present (bf16 autocast in training, as ``fleursr.tts.train``).

    .venv/bin/python benchmarks/tts_speed.py [--sizes tiny embedded] [--repeats 5]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import torch
from results_io import write_result

from fleursr.jobs.vocoders import restorer_vocoder
from fleursr.restore.config import restorer_config
from fleursr.restore.model import Restorer
from fleursr.tts.config import tts_config
from fleursr.tts.model import TTSModel
from fleursr.tts.vocoder import GriffinLimVocoder

VOCAB, LANGUAGES, SPEAKERS = 120, 24, 96
SENTENCE_CHARS = 100
FRAMES_PER_CHAR = 6.0


def fastest(fn, repeats: int, device: str) -> float:
    walls = []
    for i in range(repeats + 1):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        if i:
            walls.append(time.perf_counter() - start)
    return min(walls)


def train_speed(model: TTSModel, batch: int, seconds: float, device: str, repeats: int) -> float:
    """Training steps per second on a fixed synthetic batch."""
    cfg = model.config.mel_config()
    frames = int(seconds * cfg.sample_rate / cfg.hop_length)
    chars = int(seconds * 15)
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(2, VOCAB, (batch, chars), generator=g).to(device)
    tlen = torch.full((batch,), chars, device=device)
    mels = (torch.randn(batch, frames, cfg.n_mels, generator=g) - 4.0).to(device)
    mlen = torch.full((batch,), frames, device=device)
    ids = torch.ones(batch, dtype=torch.long, device=device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    autocast = torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda")
    model.train()

    def step() -> None:
        with autocast:
            loss = model(tokens, tlen, mels, mlen, ids, ids)["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return 1.0 / fastest(step, repeats, device)


def synthesis_rtf(model: TTSModel, size: str, device: str, repeats: int, tmp: Path) -> dict:
    """RTF of the acoustic model alone and with each vocoder, on one ~100-character sentence."""
    cfg = model.config.mel_config()
    model.eval()
    with torch.no_grad():  # a realistic speaking rate for an untrained model
        model.duration.out.weight.zero_()
        model.duration.out.bias.fill_(math.log1p(FRAMES_PER_CHAR))
    tokens = torch.randint(2, VOCAB, (1, SENTENCE_CHARS), device=device)
    tlen = torch.tensor([SENTENCE_CHARS], device=device)
    ids = torch.ones(1, dtype=torch.long, device=device)
    mel, frames = model.synthesize(tokens, tlen, ids, ids)
    audio = int(frames[0]) * cfg.hop_length / cfg.sample_rate
    acoustic = fastest(lambda: model.synthesize(tokens, tlen, ids, ids), repeats, device) / audio
    Restorer(restorer_config(size).to_dict()).save_pretrained(tmp / size)
    wavefit = restorer_vocoder(str(tmp / size), cfg, device)
    mels = [mel[0, : int(frames[0])].float().cpu().numpy()]
    voc = fastest(lambda: wavefit(mels), repeats, device) / audio
    griffin_lim = GriffinLimVocoder(cfg)
    gl = fastest(lambda: griffin_lim(mels), 1, "cpu") / audio
    return {"audio_seconds": audio, "rtf_acoustic": acoustic, "rtf_with_wavefit": acoustic + voc,
            "rtf_with_griffin_lim": acoustic + gl}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["tiny", "embedded"])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=4.0, help="audio per training item")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (torch default)")
    parser.add_argument("--out", default="benchmarks/results/tts_speed.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    print(f"{'device':<8}{'size':<10}{'params':>12}{'train steps/s':>15}"
          f"{'RTF acoustic':>14}{'RTF +WaveFit':>14}{'RTF +GriffinLim':>17}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for device in devices:
            for size in args.sizes:
                torch.manual_seed(0)
                model = TTSModel(tts_config(size), VOCAB, LANGUAGES, SPEAKERS).to(device)
                params = sum(p.numel() for p in model.parameters())
                steps = train_speed(model, args.batch, args.seconds, device, args.repeats)
                rtf = synthesis_rtf(model, size, device, args.repeats, Path(tmp))
                rows.append({"device": device, "size": size, "params": params,
                             "batch": args.batch, "seconds_per_item": args.seconds,
                             "train_steps_per_s": steps, **rtf})  # fmt: skip
                print(f"{device:<8}{size:<10}{params:>12,}{steps:>15.2f}"
                      f"{rtf['rtf_acoustic']:>14.4f}{rtf['rtf_with_wavefit']:>14.4f}"
                      f"{rtf['rtf_with_griffin_lim']:>17.4f}", flush=True)  # fmt: skip
    write_result(
        args.out,
        "tts_speed",
        rows,
        sentence_chars=SENTENCE_CHARS,
        frames_per_char=FRAMES_PER_CHAR,
        repeats=args.repeats,
    )


if __name__ == "__main__":
    main()
