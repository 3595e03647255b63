"""Inference speed of the WaveFit vocoder sizes: parameters and x real time.

Each size (tiny, embedded, full) runs with 24 kHz log-mel conditioning (hop 256, mel gain) and
with SSL-like conditioning (1024-d features at 50 Hz, hop 480, peak gain), at 5 and 3 iterations,
on batches of 1 and 8 clips of 2 s. x real time = seconds of audio out per second of wall time,
from the fastest timed run after one warm-up run (as timeit advises: on a shared machine the
slower runs measure the neighbours). CPU always (torch's default thread count); CUDA too when
present, under bf16 autocast. Prints a table and writes JSON.

    .venv/bin/python benchmarks/vocoder_speed.py [--seconds 2] [--repeats 5] [--sizes tiny ...]
"""

from __future__ import annotations

import argparse
import time

import torch
from results_io import write_result

from fleursr.restore.wavefit import WaveFit, WaveFitConfig

CONDITIONING = {
    "mel": {},
    "ssl": {"cond_dim": 1024, "hop_length": 480, "gain": "peak"},
}


def time_vocoder(
    vocoder: WaveFit, batch: int, seconds: float, steps: int, device: str, repeats: int
) -> float:
    """x real time of ``vocoder`` on ``batch`` clips of ``seconds`` at ``steps`` iterations."""
    c = vocoder.config
    frames = int(seconds * c.sample_rate) // c.hop_length
    features = torch.randn(batch, frames, c.cond_dim, device=device)
    if c.gain == "mel":
        features = features - 4.0  # a plausible log-mel range
    generator = torch.Generator(device=device).manual_seed(0)
    autocast = torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda")
    walls = []
    with torch.inference_mode(), autocast:
        for i in range(repeats + 1):
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            vocoder(features, steps=steps, generator=generator)
            if device == "cuda":
                torch.cuda.synchronize()
            if i:  # the first run warms up
                walls.append(time.perf_counter() - start)
    return batch * frames * c.hop_length / c.sample_rate / min(walls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--full-repeats", type=int, default=2, help="the full size is slow on CPU")
    parser.add_argument("--sizes", nargs="+", default=["tiny", "embedded", "full"])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--steps", nargs="+", type=int, default=[5, 3])
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (torch default)")
    parser.add_argument("--out", default="benchmarks/results/vocoder_speed.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    header = f"{'device':<8}{'size':<10}{'cond':<6}{'params':>12}{'steps':>6}{'batch':>6}"
    print(f"{header}{'x real time':>13}{'RTF':>10}")
    for device in devices:
        for size in args.sizes:
            for cond, overrides in CONDITIONING.items():
                torch.manual_seed(0)
                vocoder = WaveFit(getattr(WaveFitConfig, size)(**overrides)).to(device).eval()
                params = sum(p.numel() for p in vocoder.parameters())
                repeats = args.full_repeats if size == "full" and device == "cpu" else args.repeats
                for steps in args.steps:
                    for batch in args.batches:
                        speed = time_vocoder(vocoder, batch, args.seconds, steps, device, repeats)
                        row = {
                            "device": device,
                            "size": size,
                            "conditioning": cond,
                            "hop_length": vocoder.hop_length,
                            "fold": vocoder.config.fold,
                            "params": params,
                            "steps": steps,
                            "batch": batch,
                            "x_real_time": speed,
                            "rtf": 1.0 / speed,
                        }
                        rows.append(row)
                        print(
                            f"{device:<8}{size:<10}{cond:<6}{params:>12,}{steps:>6}{batch:>6}"
                            f"{speed:>13.1f}{1.0 / speed:>10.4f}",
                            flush=True,
                        )
    write_result(
        args.out,
        "vocoder_speed",
        rows,
        seconds_each=args.seconds,
        repeats=args.repeats,
        full_repeats_cpu=args.full_repeats,
    )


if __name__ == "__main__":
    main()
