"""Restoration quality, fleursr against the restorers users already have, in one run.

For every test utterance of each corpus (real recorded speech imported with
``recipes/real_speech.sh``, and/or an espeak-ng corpus of seen and held-out languages) the clean
recording is degraded by the project's default chain (``fleursr degrade``), then each system
restores the degraded audio: ``identity`` (the degraded input itself), the peer backends
(spectral gating, RNNoise, DeepFilterNet3, Sidon where its models are at hand) and fleursr's
restorer. Per system: DNSMOS OVRL, log-mel distance to the clean recording, CER by one ASR
(Whisper base where installed), the share of utterances whose log-mel distance fell below the
degraded input's (also among the inputs the chain changed), the 24 kHz output's energy above
8 kHz in dB of the whole (beside the clean reference's: the degraded input is written at 16 kHz,
as FLEURS is, so only a restorer that extends the band has any), how far that band lies from the
clean speech's frame by frame where the clean reference has it (log-mel distance over the mel
bands between 8 kHz and the reference's own half rate, on its speech frames), and x real time. The
clean and degraded versions are scored once and shared by every system.

    bash recipes/real_speech.sh       # once: the Asterisk prompt packs (apt-get download)
    python benchmarks/restore_quality.py --real runs/real_speech/asterisk --espeak \
        --systems identity,spectral-gating,rnnoise,deepfilternet3,embedded

Prints a table per corpus and one per degradation kind, writes JSON
(``benchmarks/results/restore_quality.json``) and a plot beside it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from results_io import write_result

from fleursr.corpus.audio import AudioError, resample
from fleursr.corpus.languages import DEMO_LANGUAGES, HELD_OUT_LANGUAGES
from fleursr.corpus.manifest import Corpus
from fleursr.degrade.twin import degrade_corpus
from fleursr.jobs.experiments.evaluate import _MEL, RATE, log_mel_distance
from fleursr.nn import MelConfig, MelSpectrogram
from fleursr.quality.asr import load_asr
from fleursr.quality.cer import char_counts
from fleursr.quality.mos import build_mos
from fleursr.restore.apply import load_restorer

HF_CUTOFF = 8000.0
OUT_RATE = 24000
HF_FLOOR_DB = -100.0


def high_band_share(wave: np.ndarray, sr: int, cutoff: float = HF_CUTOFF) -> float:
    """Energy above ``cutoff`` Hz relative to the whole signal, in dB (floored at -100 dB, also
    where the rate cannot hold the band): speech keeps ~-30 to -45 dB above 8 kHz, a 16 kHz
    recording nothing."""
    if sr <= 2 * cutoff or len(wave) < 512:
        return HF_FLOOR_DB
    spec = np.abs(np.fft.rfft(wave.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(wave), 1 / sr)
    share = float(spec[freqs >= cutoff].sum() / (float(spec.sum()) or 1.0))
    return max(HF_FLOOR_DB, 10 * np.log10(share + 1e-30))


VOCODER_KEYS = {"start": str, "final_mask": float, "fill": str}


def load_system(spec: str):
    """A restorer spec (``load_restorer``), or ``DIR@VARIANT`` for a WaveFit ablation: ``KEY=V``
    restores with another WaveFit setting (``start`` noise, griffin-lim, degraded or masked;
    ``final_mask`` a power, 0 for none; ``fill`` all or absent; ``conceal`` 1 or 0) and
    ``untrained`` zeroes the per-step network's output layer, so WaveFit returns its start, as an
    untrained network does;
    join them with ``+`` (``runs/x@start=noise+untrained``, ``embedded@final_mask=0``)."""
    path, _, variant = spec.partition("@")
    system = load_restorer(path, "cpu")
    if not variant:
        return system
    config = system.vocoder.config
    for part in filter(None, variant.split("+")):
        key, _, value = part.partition("=")
        if key == "untrained":
            for tensor in (system.vocoder.generator.out.weight, system.vocoder.generator.out.bias):
                torch.nn.init.zeros_(tensor)
        elif key == "conceal" and value in ("0", "1"):
            system.cfg.conceal = value == "1"
        elif key in VOCODER_KEYS and value:
            setattr(config, key, VOCODER_KEYS[key](value))
        else:
            raise SystemExit(f"{spec}: unknown variant {part!r} (KEY=V with KEY in "
                             f"{sorted(VOCODER_KEYS)}, conceal=0|1, or untrained)")  # fmt: skip
    try:
        config.__post_init__()
    except ValueError as err:
        raise SystemExit(f"{spec}: {err}") from err
    return system


def kinds(utt) -> list[str]:
    applied = json.loads(utt.extra.get("degradations") or "[]")
    return [a["name"] for a in applied] or ["none"]


def prepare_espeak(work: Path, per_language: int, seed: int) -> Path:
    from fleursr.synth.corpus import synth_corpus

    clean = work / "espeak_clean"
    if not (clean / "manifest.parquet").exists():
        languages = [code for code in DEMO_LANGUAGES if code not in HELD_OUT_LANGUAGES][:4]
        synth_corpus(clean, languages=[*languages, *HELD_OUT_LANGUAGES],
                     per_language=per_language, seed=seed)  # fmt: skip
    return clean


def degraded_twin(clean: Path, work: Path, name: str, seed: int) -> Path:
    """The default chain, written at 16 kHz as FLEURS is recorded: a clean reference with a
    wider band (espeak-ng at 22.05 kHz) is there to see whether a restorer extends the band."""
    out = work / f"{name}_degraded_16k"
    if not (out / "manifest.parquet").exists():
        degrade_corpus(clean, out, preset="default", seed=seed, rate=RATE)
    return out


def test_rows(degraded: Path, per_language: int) -> list:
    corpus = Corpus(degraded)
    counts: dict[str, int] = defaultdict(int)
    rows = []
    for utt in corpus:
        if utt.split != "test" or not utt.ok or not utt.extra.get("clean_path"):
            continue
        counts[utt.language] += 1
        if counts[utt.language] <= per_language:
            rows.append(utt)
    return rows


def score(waves, texts, languages, asr, mos) -> tuple[list[float], list[tuple[int, int]]]:
    """DNSMOS OVRL and (edits, characters) of 16 kHz waves."""
    ovrl = [s["dnsmos_ovrl"] for s in mos.predict(waves, RATE)] if mos else [np.nan] * len(waves)
    if asr is None:
        return ovrl, [(0, 0)] * len(waves)
    hyps = asr.transcribe(list(waves), list(languages), RATE)
    counts = [char_counts(text, hyp, language=lang)
              for text, hyp, lang in zip(texts, hyps, languages)]  # fmt: skip
    return ovrl, [(c.edits, c.ref_chars) for c in counts]


def high_band_distance(out: np.ndarray, out_sr: int, clean: np.ndarray, clean_sr: int,
                       mel: MelSpectrogram) -> float:  # fmt: skip
    """Mean absolute log-mel difference (``mel``: the 24 kHz output's) over the bands wholly
    between ``HF_CUTOFF`` and the clean reference's half rate, on the frames where the clean
    speech is 20 dB or more above the log floor; NaN where the reference has no such band."""
    c = mel.config
    freqs = np.linspace(0, c.sample_rate / 2, mel.fb.shape[1])
    fb = mel.fb.numpy()
    inside = (freqs > HF_CUTOFF) & (freqs < clean_sr / 2)
    bands = np.nonzero((fb[:, inside].sum(1) > 0) & (fb[:, ~inside].sum(1) == 0))[0]
    if not len(bands):
        return float("nan")
    spectra = [mel(torch.from_numpy(resample(w, r, c.sample_rate))[None])[0].numpy()
               for w, r in ((clean, clean_sr), (out, out_sr))]  # fmt: skip
    n = min(s.shape[1] for s in spectra)
    ref, got = (s[:, :n] for s in spectra)
    speech = np.exp(2 * ref).sum(0) > 100 * ref.shape[0] * c.log_floor**2
    if not speech.any():
        return float("nan")
    return float(np.abs(got[bands] - ref[bands])[:, speech].mean())


def measure_corpus(name, degraded_dir, utts, systems, asr, mos, held_out) -> list[dict]:
    """One record per (system, utterance)."""
    corpus, mel, wide = Corpus(degraded_dir), MelSpectrogram(_MEL), MelSpectrogram(MelConfig())
    base, records, clean_band = [], [], []
    for utt in utts:
        try:
            wave, sr = corpus.load_audio(utt)
            native = corpus.load_reference(utt.extra["clean_path"])
        except AudioError as err:
            print(f"  skipped {utt.id}: {err}")
            continue
        base.append((utt, wave, sr, resample(*native, RATE), resample(wave, sr, RATE), native))
        clean_band.append(high_band_share(resample(*native, OUT_RATE), OUT_RATE))
    texts = [u.transcription or u.raw_transcription for u, *_ in base]
    langs = [u.language for u, *_ in base]
    clean_mos, clean_edits = score([b[3] for b in base], texts, langs, asr, mos)
    deg_mos, deg_edits = score([b[4] for b in base], texts, langs, asr, mos)
    deg_mel = [log_mel_distance(b[4], b[3], mel) for b in base]
    for system_name, system in systems.items():
        outs, seconds = [], 0.0
        for _, wave, sr, *_ in base:
            start = time.perf_counter()
            out, out_sr = system.restore(wave, sr)
            seconds += time.perf_counter() - start
            outs.append((out, out_sr))
        audio = sum(len(w) / sr for _, w, sr, *_ in base)
        at16 = [resample(o, osr, RATE) for o, osr in outs]
        sys_mos, sys_edits = score(at16, texts, langs, asr, mos)
        for i, (utt, *_rest) in enumerate(base):
            clean16 = base[i][3]
            records.append({
                "corpus": name, "system": system_name, "id": utt.id, "language": utt.language,
                "group": _group(name, utt.language, held_out),
                "kinds": kinds(utt), "seconds": len(base[i][1]) / base[i][2],
                "mos_clean": clean_mos[i], "mos_degraded": deg_mos[i], "mos": sys_mos[i],
                "edits_clean": clean_edits[i], "edits_degraded": deg_edits[i],
                "edits": sys_edits[i], "mel_degraded": deg_mel[i],
                "mel": log_mel_distance(at16[i], clean16, mel),
                "high_band": high_band_share(*outs[i]), "high_band_clean": clean_band[i],
                "high_band_distance": high_band_distance(*outs[i], *base[i][5], wide),
                "x_real_time": audio / seconds if seconds else float("nan"),
            })  # fmt: skip
        print(f"  {name} / {system_name}: {len(base)} utterances, {audio / seconds:.1f}x real time")
    return records


def _group(corpus: str, language: str, held_out) -> str:
    """espeak-ng rows: seen or held-out by the shipped models; recorded speech: its language
    (no model trained on recorded speech, so every row of it is unheard)."""
    if corpus != "espeak":
        return language
    return "held-out" if language in held_out else "seen"


def _nanmean(values) -> float:
    values = [v for v in values if not np.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def _cer(pairs) -> float:
    chars = sum(c for _, c in pairs)
    return sum(e for e, _ in pairs) / chars if chars else float("nan")


def summarize(records: list[dict], key) -> list[dict]:
    """Rows of the table: per (group key, system)."""
    buckets: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        for k in key(r):
            buckets[(k, r["system"])].append(r)
    rows = []
    for (k, system), items in sorted(buckets.items()):
        rows.append({
            "group": k, "system": system, "utterances": len(items),
            "dnsmos": float(np.mean([r["mos"] for r in items])),
            "dnsmos_degraded": float(np.mean([r["mos_degraded"] for r in items])),
            "dnsmos_clean": float(np.mean([r["mos_clean"] for r in items])),
            "cer": _cer([r["edits"] for r in items]),
            "cer_degraded": _cer([r["edits_degraded"] for r in items]),
            "cer_clean": _cer([r["edits_clean"] for r in items]),
            "log_mel": float(np.mean([r["mel"] for r in items])),
            "log_mel_degraded": float(np.mean([r["mel_degraded"] for r in items])),
            "closer": float(np.mean([r["mel"] < r["mel_degraded"] for r in items])),
            # among inputs the chain changed: an untouched input (distance 0) cannot get closer
            "closer_degraded": float(np.mean([r["mel"] < r["mel_degraded"] for r in items
                                              if r["kinds"] != ["none"]] or [np.nan])),
            "high_band": float(np.mean([r["high_band"] for r in items])),
            "high_band_clean": float(np.mean([r.get("high_band_clean", np.nan) for r in items])),
            "high_band_distance": _nanmean([r.get("high_band_distance", np.nan) for r in items]),
            "x_real_time": float(items[0]["x_real_time"]),
        })  # fmt: skip
    return rows


COLUMNS = ("utterances", "dnsmos", "dnsmos_degraded", "cer", "cer_degraded", "log_mel",
           "log_mel_degraded", "closer", "closer_degraded", "high_band", "high_band_clean",
           "high_band_distance", "x_real_time")  # fmt: skip


def print_table(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    print("| group | system | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 2) + "|")
    for r in rows:
        cells = [f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c]) for c in COLUMNS]
        print(f"| {r['group']} | {r['system']} | " + " | ".join(cells) + " |")


def plot(rows: list[dict], path: Path) -> None:
    from matplotlib.figure import Figure

    groups = sorted({r["group"] for r in rows})
    systems = list(dict.fromkeys(r["system"] for r in rows))
    fig = Figure(figsize=(4 + 2 * len(groups), 6))
    axes = fig.subplots(2, 1)
    width = 0.8 / max(1, len(systems))
    for j, system in enumerate(systems):
        for ax, metric in zip(axes, ("dnsmos", "cer")):
            values = [next((r[metric] for r in rows if r["group"] == g and r["system"] == system),
                           np.nan) for g in groups]  # fmt: skip
            ax.bar(np.arange(len(groups)) + j * width, values, width, label=system)
    for ax, label in zip(axes, ("DNSMOS OVRL (higher is better)", "CER (lower is better)")):
        ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2, groups)
        ax.set_ylabel(label)
    axes[0].legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"written {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--real", nargs="*", default=[], help="clean corpora of recorded speech")
    ap.add_argument("--espeak", action="store_true", help="also an espeak-ng corpus")
    ap.add_argument(
        "--systems",
        default="identity,spectral-gating,rnnoise,deepfilternet3,embedded",
        help="restorer specs, comma-separated; DIR@start=S+untrained: a WaveFit ablation variant",
    )
    ap.add_argument("--asr", default="auto", help="an ASR spec (fleursr.quality.asr.load_asr)")
    ap.add_argument("--mos", default="dnsmos")
    ap.add_argument(
        "--per-language",
        type=int,
        default=12,
        help="test utterances per language of each real corpus",
    )
    ap.add_argument(
        "--espeak-per-language",
        type=int,
        default=5,
        help="test utterances per language of the espeak corpus",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", default="runs/restore_quality")
    ap.add_argument("--out", default="benchmarks/results/restore_quality.json")
    args = ap.parse_args()
    started = time.perf_counter()
    torch.set_num_threads(args.threads)
    work = Path(args.work)
    corpora = [(Path(p).name, Path(p)) for p in args.real]
    if args.espeak:
        clean = prepare_espeak(work, args.espeak_per_language * 5, args.seed)
        corpora.append(("espeak", clean))
    if not corpora:
        ap.error("give --real CLEAN_DIR and/or --espeak")
    systems = {spec: load_system(spec) for spec in args.systems.split(",")}
    asr = load_asr(args.asr, "cpu")
    dnsmos = args.mos.strip().lower().startswith("dnsmos")
    threads = {"num_threads": args.threads} if dnsmos else {}
    mos = None if args.mos == "none" else build_mos(args.mos, **threads)
    records = []
    for name, clean in corpora:
        degraded = degraded_twin(clean, work, name, args.seed)
        n = args.espeak_per_language if name == "espeak" else args.per_language
        utts = test_rows(degraded, n)
        print(f"{name}: {len(utts)} test utterances")
        records += measure_corpus(name, degraded, utts, systems, asr, mos, HELD_OUT_LANGUAGES)
    by_corpus = summarize(records, lambda r: [r["corpus"]])
    by_group = summarize(records, lambda r: [f"{r['corpus']}/{r['group']}"])
    by_kind = summarize(records, lambda r: [f"{r['corpus']}/{k}" for k in r["kinds"]])
    print_table("per corpus", by_corpus)
    print_table("per language (recorded) / seen vs held-out (espeak-ng)", by_group)
    print_table("per degradation kind", by_kind)
    out = Path(args.out)
    write_result(out, "restore_quality", by_corpus, groups=by_group, kinds=by_kind,
                 systems=list(systems), asr=getattr(asr, "name", str(args.asr)), mos=args.mos,
                 per_language=args.per_language, seed=args.seed, records=records,
                 wall_seconds=round(time.perf_counter() - started, 1))  # fmt: skip
    plot(by_corpus + by_group, out.with_suffix(".png"))
    print(f"whole run: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
