"""Naturalness and content reports: per language, before vs after, as tables and plots.

``load_scores(run_dir)`` gives a pandas frame of a scored run (no audio bytes). The summaries
and plots take labels (``before="original"``, ``after="restored"``; for a degraded twin,
``"clean"`` / ``"degraded"``), so any two scored versions compare. ``write_report`` renders one
self-contained HTML page (plots embedded, and also written as PNG files beside it). Plots are
plain matplotlib ``Figure`` objects (no pyplot state), so they render headless and display
inline in a notebook.
"""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from fleursr.corpus.audio import AudioError, write_audio
from fleursr.corpus.manifest import Corpus
from fleursr.quality.cer import cer_by_language

MOS = "dnsmos_ovrl"


def load_scores(run_dir: str | os.PathLike) -> pd.DataFrame:
    """The manifest of a scored run without audio bytes; ``score_`` prefixes dropped."""
    corpus = Corpus(run_dir)
    df = corpus.table(columns=[c for c in corpus.columns if c != "audio"]).to_pandas()
    df = df.rename(columns={c: c[len("score_") :] for c in df.columns if c.startswith("score_")})
    df["duration"] = df["num_samples"] / df["sampling_rate"]
    return df


def language_summary(df: pd.DataFrame, before: str, after: str, mos: str = MOS) -> pd.DataFrame:
    """Per language (and ``all``): utterances, kept share, mean MOS and corpus CER before/after."""
    rows = []
    for lang, g in [*sorted(df.groupby("language")), ("all", df)]:
        row = {"language": lang, "utterances": len(g)}
        decided = g[g.status.isin(["kept", "dropped"])]
        row["kept"] = (decided.status == "kept").mean() if len(decided) else float("nan")
        row["errors"] = int((g.status == "error").sum())
        for label in (before, after):
            col = f"{mos}_{label}"
            row[f"mos_{label}"] = g[col].mean() if col in g else float("nan")
            asr = f"asr_{label}"
            if asr in g:
                ok = g[g[asr].notna() & (g.transcription != "")]
                cers = cer_by_language(("x", r, h) for r, h in zip(ok.transcription, ok[asr]))
                row[f"cer_{label}"] = cers.get("x", float("nan"))
            else:
                row[f"cer_{label}"] = float("nan")
        rows.append(row)
    return pd.DataFrame(rows).set_index("language")


def worst(df: pd.DataFrame, before: str, after: str, n: int = 10, mos: str = MOS) -> pd.DataFrame:
    """The ``n`` utterances whose MOS fell most (or rose least) from ``before`` to ``after``."""
    a, b = f"{mos}_{before}", f"{mos}_{after}"
    if a not in df or b not in df:
        return df.head(0)
    out = df.assign(mos_gain=df[b] - df[a]).dropna(subset=["mos_gain"])
    return out.sort_values("mos_gain").head(n)


def _png(fig: Figure, path: Path) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    path.write_bytes(buf.getvalue())
    return base64.b64encode(buf.getvalue()).decode()


def plot_scatter(df: pd.DataFrame, before: str, after: str, mos: str = MOS) -> Figure:
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    for lang, g in df.groupby("language"):
        ax.scatter(g[f"{mos}_{before}"], g[f"{mos}_{after}"], s=12, label=lang, alpha=0.7)
    lo, hi = 1.0, 5.0
    ax.plot([lo, hi], [lo, hi], "k--", lw=1)
    ax.set(xlim=(lo, hi), ylim=(lo, hi), xlabel=f"{mos} {before}", ylabel=f"{mos} {after}",
           title="Predicted MOS per utterance (above the line: better)")  # fmt: skip
    if df.language.nunique() <= 12:
        ax.legend(fontsize=7, loc="lower right")
    return fig


def plot_distributions(df: pd.DataFrame, before: str, after: str, mos: str = MOS) -> Figure:
    langs = sorted(df.language.unique())
    fig = Figure(figsize=(max(6, 0.6 * len(langs)), 4))
    ax = fig.subplots()
    data_b = [df[df.language == lang][f"{mos}_{before}"].dropna() for lang in langs]
    data_a = [df[df.language == lang][f"{mos}_{after}"].dropna() for lang in langs]
    pos = range(len(langs))
    ax.boxplot(data_b, positions=[p - 0.2 for p in pos], widths=0.35, patch_artist=True,
               boxprops={"facecolor": "#f4a582"})  # fmt: skip
    ax.boxplot(data_a, positions=[p + 0.2 for p in pos], widths=0.35, patch_artist=True,
               boxprops={"facecolor": "#92c5de"})  # fmt: skip
    ax.set_xticks(list(pos), langs, rotation=60, fontsize=8)
    ax.set(ylabel=mos, title=f"{mos} per language: {before} (orange) vs {after} (blue)")
    return fig


def plot_cer(summary: pd.DataFrame, before: str, after: str) -> Figure:
    s = summary.drop(index="all", errors="ignore")
    fig = Figure(figsize=(max(6, 0.6 * len(s)), 4))
    ax = fig.subplots()
    x = range(len(s))
    ax.bar([i - 0.2 for i in x], 100 * s[f"cer_{before}"], 0.4, label=before, color="#f4a582")
    ax.bar([i + 0.2 for i in x], 100 * s[f"cer_{after}"], 0.4, label=after, color="#92c5de")
    ax.set_xticks(list(x), s.index, rotation=60, fontsize=8)
    ax.set(ylabel="CER (%)", title="Character error rate per language (same ASR)")
    ax.legend()
    return fig


def _audio_link(corpus: Corpus, out_dir: Path, uid: str, reference: str | None, tag: str) -> str:
    """An audio player for one utterance of the run: its own audio (``reference`` None) or the
    audio a reference column names. A file on disk is linked; embedded audio (or audio in
    another corpus) is written to ``out_dir/audio`` first. '-' where it cannot be read."""
    try:
        if reference is None:
            utt = corpus.get(uid)
            target = corpus.resolve(utt.path)
            if not (utt.audio and utt.audio.get("bytes")) and target.is_file():
                return _player(target, out_dir)
            wave, sr = corpus.load_audio(utt)
        else:
            target = corpus.resolve(reference)
            if "#" not in reference and target.is_file():
                return _player(target, out_dir)
            wave, sr = corpus.load_reference(reference)
    except (AudioError, KeyError, FileNotFoundError, ValueError):
        return "-"
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in uid)
    target = out_dir / "audio" / f"{safe}_{tag}.flac"
    write_audio(target, wave, sr)
    return _player(target, out_dir)


def _reference_link(corpus: Corpus, out_dir: Path, row: object, column: str, tag: str) -> str:
    reference = getattr(row, column, None)
    if not isinstance(reference, str) or not reference:
        return "-"
    return _audio_link(corpus, out_dir, row.id, reference, tag)


def _player(target: Path, out_dir: Path) -> str:
    rel = os.path.relpath(target.resolve(), out_dir.resolve())
    return f'<audio controls preload="none" src="{html.escape(rel)}"></audio>'


def write_report(
    run_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None,
    against: str | os.PathLike | None = None, before: str = "original",
    after: str = "restored", mos: str = MOS,
) -> Path:  # fmt: skip
    """Write ``report.html`` (and its PNG plots) for a scored run; returns the page's path.

    With ``against``, a second run's ``after`` scores are compared with this run's, per
    language and per utterance (two restoration models, or two versions of a dataset)."""
    run = Path(run_dir)
    out = Path(out_dir) if out_dir else run / "report"
    out.mkdir(parents=True, exist_ok=True)
    df = load_scores(run)
    summary = language_summary(df, before, after, mos)
    parts = [f"<h1>fleursr report: {html.escape(str(run))}</h1>",
             f"<p>{len(df)} utterances, {df.language.nunique()} languages, "
             f"{df.duration.sum() / 3600:.2f} h. Predicted MOS: {mos} (a relative measure: no MOS "
             "predictor is validated on ~100 languages). CER: same ASR on both.</p>",
             "<h2>Per language</h2>", summary.to_html(float_format="%.3f", na_rep="-")]  # fmt: skip
    figures = {}
    if f"{mos}_{before}" in df and f"{mos}_{after}" in df:
        figures["mos_scatter.png"] = plot_scatter(df, before, after, mos)
        figures["mos_per_language.png"] = plot_distributions(df, before, after, mos)
    if summary[[f"cer_{before}", f"cer_{after}"]].notna().any().any():
        figures["cer_per_language.png"] = plot_cer(summary, before, after)
    for name, fig in figures.items():
        parts.append(
            f"<h2>{name[:-4].replace('_', ' ')}</h2>"
            f'<img alt="{name}" src="data:image/png;base64,{_png(fig, out / name)}">'
        )
    if against is not None:
        other = load_scores(against)
        cols = [f"mos_{after}", f"cer_{after}"]
        mine = summary[cols].add_suffix(" (this run)")
        theirs = language_summary(other, before, after, mos)[cols].add_suffix(
            f" ({Path(against).name})"
        )
        both = mine.join(theirs, how="outer")
        parts += [f"<h2>Against {html.escape(str(against))}</h2>",
                  both.to_html(float_format="%.3f", na_rep="-")]  # fmt: skip
    bad = worst(df, before, after, mos=mos)
    if len(bad):
        corpus = Corpus(run)
        rows = "".join(
            f"<tr><td>{html.escape(r.id)}</td><td>{r.language}</td><td>{r.mos_gain:+.2f}</td>"
            f"<td>{_reference_link(corpus, out, r, 'original_path', before)}</td>"
            f"<td>{_audio_link(corpus, out, r.id, None, after)}</td></tr>"
            for r in bad.itertuples()
        )
        parts += [
            "<h2>Worst utterances (MOS change)</h2><table><tr><th>id</th><th>language</th>"
            f"<th>MOS change</th><th>{before}</th><th>{after}</th></tr>{rows}</table>"
        ]
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:"
        "collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}"
    )
    page = out / "report.html"
    page.write_text(f"<!doctype html><meta charset='utf-8'><title>fleursr report</title>"
                    f"<style>{style}</style>" + "\n".join(parts), encoding="utf-8")  # fmt: skip
    return page
