"""The experiment: does a TTS voice trained on the restored corpus beat one trained on the
original? (FLEURS-R's TTS table, reproduced.)

``run_compare`` trains the same model with the same budget and seed on both corpora
(``out/original/model``, ``out/restored/model``; each resumes; ``train=False`` takes them as
they stand, e.g. while their training goes on elsewhere), synthesizes the same held-out
sentences (the original corpus' ``test`` split, one per distinct sentence and language, at
most ``per_language``) with the same vocoder and speaker, scores every synthesis with the same
ASR (CER against the sentence) and MOS predictor, and writes ``results.csv`` (one row per
synthesis), the table (``table.csv``, ``table.md``, ``table.json``: MOS, CER and the length of
the speech against the recordings'), ``comparison.png`` and a listening page, ``index.html``:
per sentence, both voices and both recordings. Audio goes to ``out/{original,restored}/audio/``
and the recordings to ``out/recordings/``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fleursr.corpus.audio import AudioError, write_audio
from fleursr.corpus.manifest import Corpus
from fleursr.jobs.experiments.tts_listen import write_listening_page
from fleursr.jobs.experiments.tts_report import SYSTEMS, write_report
from fleursr.jobs.vocoders import load_synthesizer
from fleursr.nn import resolve_device
from fleursr.nn.checkpoint import training_step
from fleursr.tts.data import read_rows, utterance_text
from fleursr.tts.pretrained import CONFIG_NAME, TTS
from fleursr.tts.train import TTSTrainConfig, train_tts


@dataclass
class CompareConfig:
    """Settings of :func:`run_compare`. ``asr``: a ``fleursr.quality.asr.load_asr`` spec (default
    ``auto``: the offline Whisper base where installed; ``none``: no CER); ``mos``: a
    ``fleursr.quality.mos.build_mos`` name or ``none``; ``vocoder``: a restoration checkpoint
    (``None``: Griffin-Lim)."""

    original: str
    restored: str
    out: str
    config: Any = "embedded"
    steps: int = 20000
    batch_size: int = 16
    seed: int = 0
    device: str = "auto"
    vocoder: str | None = None
    asr: str = "auto"
    mos: str = "dnsmos"
    per_language: int = 20
    split: str = "test"
    train: bool = True


def held_out(corpus: Corpus, split: str, per_language: int) -> list[dict[str, Any]]:
    """Distinct ``(language, sentence)`` pairs of ``split``, at most ``per_language`` each, in
    manifest order: ``id, language, text, speaker, reference_seconds`` (the recording's
    length)."""
    seen: set[tuple[str, str]] = set()
    counts: dict[str, int] = {}
    picked = []
    for u in read_rows(corpus, split):
        key = (u.language, utterance_text(u))
        if key in seen or counts.get(u.language, 0) >= per_language:
            continue
        seen.add(key)
        counts[u.language] = counts.get(u.language, 0) + 1
        picked.append({"id": u.id, "language": u.language, "text": key[1],
                       "speaker": u.speaker_id or f"{u.language}_{u.gender}",
                       "reference_seconds": u.duration})  # fmt: skip
    return picked


def _shared_speaker(voices: list[TTS], speaker: str, language: str) -> str | None:
    """The test sentence's speaker where every voice knows it (under either key form), else
    ``None``: each voice's default speaker of the language."""
    for key in (speaker, f"{language}:{speaker}"):
        if all(key in v.speakers for v in voices):
            return key
    return None


def run_compare(cfg: CompareConfig, progress: bool = True) -> dict[str, Any]:
    """Train both voices, synthesize, score, write the table; returns the summary dict."""
    out = Path(cfg.out)
    device = str(resolve_device(cfg.device))
    corpora = {"original": cfg.original, "restored": cfg.restored}
    for name in SYSTEMS:
        voice = out / name / "model"
        if cfg.train:
            train_tts(TTSTrainConfig(data=corpora[name], out=str(voice), config=cfg.config,
                                     steps=cfg.steps, batch_size=cfg.batch_size, seed=cfg.seed,
                                     device=device), progress)  # fmt: skip
        elif not (voice / CONFIG_NAME).is_file():
            raise FileNotFoundError(f"{voice}: no voice to compare (train it first, or compare "
                                    "without --no-train)")  # fmt: skip
    steps = {name: training_step(out / name / "model") for name in SYSTEMS}
    synths = {name: load_synthesizer(out / name / "model", cfg.vocoder, device)
              for name in SYSTEMS}  # fmt: skip
    voices = [s.voice for s in synths.values()]
    sentences = held_out(Corpus(cfg.original), cfg.split, cfg.per_language)
    known = set.intersection(*(set(v.languages) for v in voices))
    skipped = sorted({s["language"] for s in sentences} - known)
    sentences = [s for s in sentences if s["language"] in known]
    if not sentences:
        raise ValueError(f"no held-out sentence in a language both voices know ({sorted(known)})")
    for s in sentences:
        s["speaker"] = _shared_speaker(voices, s["speaker"], s["language"])

    from fleursr.quality.asr import load_asr
    from fleursr.quality.asr.load import resolve_asr_spec
    from fleursr.quality.mos import build_mos

    cfg.asr = resolve_asr_spec(cfg.asr)  # the summary records what "auto" stood for
    asr = load_asr(cfg.asr, device=device)
    mos = None if cfg.mos.strip().lower() == "none" else build_mos(cfg.mos)
    mos_name = (
        None if mos is None else ("dnsmos_ovrl" if "dnsmos_ovrl" in mos.names else mos.names[0])
    )
    texts, langs = [s["text"] for s in sentences], [s["language"] for s in sentences]
    rows = []
    for name, synth in synths.items():
        waves = synth.say(texts, langs, [s["speaker"] for s in sentences])
        sr = synth.sample_rate
        for s, wave in zip(sentences, waves):
            write_audio(out / name / "audio" / f"{s['id']}.flac", wave, sr)
        hyps = asr.transcribe(waves, langs, sr=sr) if asr is not None else [None] * len(waves)
        scores = mos.predict(waves, sr=sr) if mos is not None else [{}] * len(waves)
        for s, wave, hyp, sc in zip(sentences, waves, hyps, scores):
            rows.append({"system": name, "id": s["id"], "language": s["language"],
                         "speaker": s["speaker"] or "", "reference": s["text"], "hypothesis": hyp,
                         "seconds": len(wave) / sr, "reference_seconds": s["reference_seconds"],
                         "mos": sc.get(mos_name), **sc})  # fmt: skip

    import pandas as pd

    pd.DataFrame(rows).to_csv(out / "results.csv", index=False)
    summary = {"config": asdict(cfg), "mos_metric": mos_name, "asr": cfg.asr, "steps": steps,
               "vocoder": cfg.vocoder or "griffin-lim", "languages": sorted(known),
               "skipped_languages": skipped, "sentences": len(sentences),
               "unknown_characters": {name: s.voice.tokenizer.unknown_report()
                                      for name, s in synths.items()}}  # fmt: skip
    summary["table"] = write_report(rows, out, summary, mos_name or "MOS")
    recordings = _copy_recordings(sentences, corpora, out)
    write_listening_page(rows, recordings, out, mos_name or "MOS")
    return summary


def _copy_recordings(
    sentences: list[dict[str, Any]], corpora: dict[str, str], out: Path
) -> dict[str, dict[str, str]]:
    """Each held-out sentence's recording from both corpora (the ones the voices never trained
    on), as FLAC under ``out/recordings/{original,restored}/``: ``{id: {corpus: relative path}}``
    for the listening page; a recording that cannot be read is left out."""
    found: dict[str, dict[str, str]] = {s["id"]: {} for s in sentences}
    for name, root in corpora.items():
        corpus = Corpus(root)
        for s in sentences:
            try:
                wave, sr = corpus.load_audio(corpus.get(s["id"]))
            except (AudioError, KeyError):
                continue
            rel = f"recordings/{name}/{s['id']}.flac"
            write_audio(out / rel, wave, sr)
            found[s["id"]][name] = rel
    return found
