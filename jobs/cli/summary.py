"""Human-readable summaries of corpus directories, printed at the end of every command."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

from fleursr.corpus.manifest import Corpus


def degradation_counts(corpus: Corpus) -> Counter:
    """How often each degradation was applied (``clean`` counts untouched utterances)."""
    counts: Counter = Counter()
    if "degradations" not in corpus.columns:
        return counts
    for text in corpus.table(columns=["degradations"]).column("degradations").to_pylist():
        applied = json.loads(text) if text else []
        counts.update(d["name"] for d in applied)
        if not applied:
            counts["clean"] += 1
    return counts


def format_summary(root: str | os.PathLike, title: str = "") -> str:
    corpus = Corpus(root)
    s = corpus.summary()
    lines = [title or str(Path(root))] if title else []
    lines.append(
        f"  {s['utterances']} utterances, {s['languages']} languages, {s['speakers']} speakers, "
        f"{s['hours']:.2f} h of audio ({s['hours'] * 60:.1f} min)"
    )
    lines.append("  splits: " + ", ".join(f"{k} {v}" for k, v in sorted(s["per_split"].items())))
    langs = ", ".join(f"{k} {v}" for k, v in sorted(s["per_language"].items()))
    lines.append(f"  languages: {langs}")
    counts = degradation_counts(corpus)
    if counts:
        total = s["utterances"]
        lines.append(
            "  degradations: "
            + ", ".join(f"{k} {v} ({100 * v / total:.0f}%)" for k, v in counts.most_common())
        )
    if s["errors"]:
        lines.append(f"  errors: {s['errors']} utterances (see the 'error' column)")
    lines.append(f"  manifest: {corpus.manifest}")
    return "\n".join(lines)


def print_summary(root: str | os.PathLike, title: str = "") -> None:
    print(format_summary(root, title))
