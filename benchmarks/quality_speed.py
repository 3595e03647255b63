"""Throughput of the quality backends: DNSMOS and the embedded ASR (and, with ``--full``, the
Whisper large-v3 and MMS-1b architectures with random weights).

x real time = seconds of audio scored per second of wall time, fastest of ``--repeats`` timed
runs after one warm-up run, on ``--clips`` clips of ``--seconds`` each, at batch sizes 1 and 8.
DNSMOS runs with the reference windowing (a clip under 9.01 s is looped, so a 4 s clip costs 7
windows) and with ``exact_reference=False`` (one window per short clip). The embedded ASR runs
at its tiny and embedded sizes with random weights (speed does not depend on the weights).
``--full`` times the transformers models at their published sizes, built from config objects
with random weights (no download): Whisper large-v3 encoder + 32 greedy decoder steps per clip,
and an MMS-1b sized Wav2Vec2ForCTC forward pass; on CUDA when present (fp16), else on CPU
(slow: minutes). Prints a table and writes JSON.

    .venv/bin/python benchmarks/quality_speed.py [--seconds 4] [--clips 8] [--repeats 3] [--full]
"""

from __future__ import annotations

import argparse

import torch
from results_io import write_result
from timing import best_wall

from fleursr.corpus.testing import speech_like
from fleursr.quality.asr.embedded import EmbeddedASR, EmbeddedASRConfig, vocab_from_texts
from fleursr.quality.mos import DNSMOS


def embedded_asr(size: str) -> EmbeddedASR:
    torch.manual_seed(0)
    vocab = vocab_from_texts(["abcdefghijklmnopqrstuvwxyz 0123456789"])
    return EmbeddedASR(getattr(EmbeddedASRConfig, size)(), vocab, ["en_us", "fr_fr"])


#: the published sizes ``full_size_rows`` builds (Whisper large-v3, MMS-1b)
WHISPER_LARGE_V3 = dict(
    vocab_size=51866, num_mel_bins=128, d_model=1280, encoder_layers=32, decoder_layers=32,
    encoder_attention_heads=20, decoder_attention_heads=20, encoder_ffn_dim=5120,
    decoder_ffn_dim=5120, max_source_positions=1500, max_target_positions=448,
)  # fmt: skip
MMS_1B = dict(
    hidden_size=1280, num_hidden_layers=48, num_attention_heads=16, intermediate_size=5120,
    conv_dim=(512,) * 7, do_stable_layer_norm=True, feat_extract_norm="layer", vocab_size=154,
)  # fmt: skip


def full_size_rows(seconds: float, clips: int, repeats: int,
                   sizes: dict[str, dict] | None = None) -> list[dict]:  # fmt: skip
    """Whisper large-v3 and MMS-1b rows; ``sizes`` overrides config fields of ``"whisper"`` and
    ``"mms"`` (e.g. toy sizes for a smoke run of the same code)."""
    sizes = sizes or {}
    import transformers as tf

    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.float16 if device == "cuda" else torch.float32
    rows = []
    whisper = tf.WhisperConfig(**{**WHISPER_LARGE_V3, **sizes.get("whisper", {})})
    model = tf.WhisperForConditionalGeneration(whisper).to(device, dtype).eval()
    feats = torch.randn(clips, 128, 3000, device=device, dtype=dtype)  # one 30 s window each
    steps = 32

    def run_whisper() -> None:
        with torch.inference_mode():
            model.generate(input_features=feats, max_new_tokens=steps, min_new_tokens=steps,
                           do_sample=False)  # fmt: skip

    wall = best_wall(run_whisper, repeats, device == "cuda")
    params = sum(p.numel() for p in model.parameters())
    # a clip of `seconds` pads to the 30 s window: cost per clip is the same for any length <= 30
    rows.append({"backend": "whisper-large-v3 (random)", "device": device, "batch": clips,
                 "params": params, "x_real_time": clips * seconds / wall,
                 "note": f"encoder + {steps} decoder steps per clip"})  # fmt: skip
    del model
    mms = tf.Wav2Vec2Config(**{**MMS_1B, **sizes.get("mms", {})})
    model = tf.Wav2Vec2ForCTC(mms).to(device, dtype).eval()
    waves = torch.randn(clips, int(seconds * 16000), device=device, dtype=dtype)

    def run_ctc() -> None:
        with torch.inference_mode():
            model(waves)

    wall = best_wall(run_ctc, repeats, device == "cuda")
    params = sum(p.numel() for p in model.parameters())
    speed = clips * seconds / wall
    rows.append({"backend": "mms-1b CTC (random)", "device": device, "batch": clips,
                 "params": params, "x_real_time": speed, "note": "forward"})  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="also the full-size transformers")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (torch default)")
    parser.add_argument("--out", default="benchmarks/results/quality_speed.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    waves = [speech_like(args.seconds, f0=100.0 + 15 * i, seed=i) for i in range(args.clips)]
    audio_s = args.clips * args.seconds
    rows = []
    print(f"{'backend':<34}{'device':<8}{'batch':>6}{'params':>14}{'x real time':>13}")

    def add(row: dict) -> None:
        rows.append(row)
        print(f"{row['backend']:<34}{row['device']:<8}{row['batch']:>6}{row['params']:>14,}"
              f"{row['x_real_time']:>13.1f}", flush=True)  # fmt: skip

    for exact in (True, False):
        mos = DNSMOS(num_threads=torch.get_num_threads(), exact_reference=exact)
        for batch in (1, 8):
            wall = best_wall(lambda m=mos, b=batch: m.predict(waves, 16000, b), args.repeats)
            name = "DNSMOS " + ("reference windows" if exact else "one window/short clip")
            add({"backend": name, "device": "cpu", "batch": batch, "params": 0,
                 "x_real_time": audio_s / wall})  # fmt: skip
    for size in ("tiny", "embedded"):
        asr = embedded_asr(size)
        for batch in (1, 8):
            wall = best_wall(lambda a=asr, b=batch: a.transcribe(waves, "en_us", 16000, b),
                             args.repeats)  # fmt: skip
            add({"backend": f"EmbeddedASR {size}", "device": "cpu", "batch": batch,
                 "params": asr.num_parameters(), "x_real_time": audio_s / wall})  # fmt: skip
    if args.full:
        for row in full_size_rows(args.seconds, args.clips, max(1, args.repeats - 1)):
            add(row)
    write_result(
        args.out,
        "quality_speed",
        rows,
        seconds_each=args.seconds,
        clips=args.clips,
        repeats=args.repeats,
    )


if __name__ == "__main__":
    main()
