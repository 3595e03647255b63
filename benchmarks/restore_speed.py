"""Restoration speed per stage (features, cleaner, vocoder) and end to end.

Sizes: tiny, embedded, engine (the shipped restorer's configuration, recipes/engine.yaml) and
full. The full size uses random weights of the real shapes: a
w2v-BERT 2.0 encoder (1024 wide, 24 layers in the original) cut at layer 8, the full cleaner
and the full WaveFit. x real time = seconds of audio restored per second of wall time.

    .venv/bin/python benchmarks/restore_speed.py [--sizes tiny embedded full] [--seconds 4]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from results_io import write_result
from timing import best_wall

from fleursr.restore.config import restorer_config
from fleursr.restore.model import Restorer

# a size name, or "engine": the shipped restorer's configuration (embedded size, WaveFit
# starting from the input with an STFT-domain network, 3 steps)
SIZES = {"engine": str(Path(__file__).parent.parent / "recipes" / "engine.yaml")}


def build(size: str, device: torch.device) -> Restorer:
    config = restorer_config(SIZES.get(size, size))
    features = None
    if config.features["kind"] == "ssl":  # random weights of w2v-BERT 2.0's shape, no download
        from transformers import SeamlessM4TFeatureExtractor, Wav2Vec2BertConfig, Wav2Vec2BertModel

        from fleursr.restore.features import SSLFeatures

        encoder = Wav2Vec2BertModel(Wav2Vec2BertConfig())
        features = SSLFeatures.from_model(encoder, SeamlessM4TFeatureExtractor(),
                                          layer=config.features["layer"],
                                          model_id=config.features["model"])  # fmt: skip
    return Restorer(config.to_dict(), features=features).to(device).eval()


@torch.inference_mode()
def measure(model: Restorer, batch: int, seconds: float, device: torch.device, repeats: int):
    sr = model.input_sample_rate
    waves = 0.1 * torch.randn(batch, int(seconds * sr), device=device)
    lengths = torch.full((batch,), waves.shape[1], device=device)
    cast = model._autocast()
    with cast:
        feats, frames = model.features(waves, lengths)
        mask = torch.arange(feats.shape[1], device=device)[None] < frames[:, None]
        cleaned = model.cleaner(feats, mask)
        out_lengths = lengths * model.sample_rate // model.features.sample_rate
        reference = model._reference(waves, lengths, out_lengths) if (
            model.vocoder.uses_reference) else None  # fmt: skip
    stages = {
        "features": lambda: model.features(waves, lengths),
        "cleaner": lambda: model.cleaner(feats, mask),
        "vocoder": lambda: model.vocoder(cleaned, mask, reference=reference),
        "end_to_end": lambda: model(waves, lengths),
    }
    audio = batch * seconds
    out = {}
    for name, fn in stages.items():
        with cast:
            out[name] = audio / best_wall(fn, repeats, device.type == "cuda")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["tiny", "embedded", "engine", "full"])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results/restore_speed.json")
    args = parser.parse_args()

    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    rows = []
    for device in devices:
        for size in args.sizes:
            model = build(size, device)
            params = {
                "cleaner": sum(p.numel() for p in model.cleaner.parameters()),
                "vocoder": sum(p.numel() for p in model.vocoder.parameters()),
                "features": sum(p.numel() for p in model.features.parameters()),
            }
            for batch in args.batches:
                slow = device.type == "cpu" and size == "full"
                repeats = 1 if slow else args.repeats
                if slow and batch > 1:
                    continue  # full size on CPU: batch 1 only, it is for GPUs
                speed = measure(model, batch, args.seconds, device, repeats)
                rows.append({"device": device.type, "size": size, "batch": batch,
                             "params": params, "x_real_time": speed})  # fmt: skip
                print(f"{device.type:<5}{size:<10}batch {batch:<3}" + "  ".join(
                    f"{k} {v:8.1f}x" for k, v in speed.items()))  # fmt: skip
            del model
    write_result(args.out, "restore_speed", rows, seconds_each=args.seconds)


if __name__ == "__main__":
    main()
