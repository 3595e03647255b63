"""The experiment's table and plots: per language and overall, predicted MOS, CER and length of
speech (against the recordings') of the voice trained on the original corpus against the voice
trained on the restored one.

Input rows are per synthesized sentence: ``system`` (``original``/``restored``), ``language``,
``reference``, ``hypothesis`` (``None`` without an ASR) and ``mos`` (``None`` without a
predictor). CER over a language is total edits over total reference characters
(``fleursr.quality.cer``); MOS is the mean over sentences; rows with ``seconds`` and
``reference_seconds`` (the recording's) give the length.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from fleursr.quality.cer import CharCounts, char_counts

SYSTEMS = ("original", "restored")
OVERALL = "overall"


def _cell(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    mos = [r["mos"] for r in rows if r.get("mos") is not None]
    pairs = [(r["reference"], r["hypothesis"], r["language"]) for r in rows
             if r.get("hypothesis") is not None]  # fmt: skip
    total = CharCounts(0, 0)
    for ref, hyp, lang in pairs:
        total = total + char_counts(ref, hyp, language=lang)
    timed = [r for r in rows if r.get("reference_seconds")]
    length = (sum(r["seconds"] for r in timed) / sum(r["reference_seconds"] for r in timed)
              if timed else None)  # fmt: skip
    return {"mos": float(np.mean(mos)) if mos else None, "cer": total.cer if pairs else None,
            "length": length}  # fmt: skip


def summarize(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One dict per language (sorted) and a last ``overall`` one: ``language, sentences``, then
    ``mos_original, mos_restored, mos_delta, cer_original, cer_restored, cer_delta`` (deltas
    are restored minus original; ``None`` where not measured) and ``length_original,
    length_restored``: the synthesized speech's total length over the recordings' (rows with a
    ``reference_seconds``), 1.0 when the voice speaks at the recorded pace."""
    languages = sorted({r["language"] for r in rows})
    table = []
    for lang in [*languages, OVERALL]:
        mine = [r for r in rows if lang == OVERALL or r["language"] == lang]
        entry: dict[str, Any] = {
            "language": lang,
            "sentences": len({r["id"] for r in mine}),
        }
        cells = {s: _cell([r for r in mine if r["system"] == s]) for s in SYSTEMS}
        for metric in ("mos", "cer"):
            a, b = cells["original"][metric], cells["restored"][metric]
            entry[f"{metric}_original"], entry[f"{metric}_restored"] = a, b
            entry[f"{metric}_delta"] = None if a is None or b is None else b - a
        for system in SYSTEMS:
            entry[f"length_{system}"] = cells[system]["length"]
        table.append(entry)
    return table


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def to_markdown(table: Sequence[dict[str, Any]], mos_name: str = "MOS") -> str:
    """A markdown table of :func:`summarize`'s output."""
    head = ["language", "sentences", f"{mos_name} original", f"{mos_name} restored", "delta",
            "CER original", "CER restored", "delta",
            "length original", "length restored"]  # fmt: skip
    keys = ["language", "sentences", "mos_original", "mos_restored", "mos_delta",
            "cer_original", "cer_restored", "cer_delta",
            "length_original", "length_restored"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in table:
        cells = [f"**{row[k]}**" if row["language"] == OVERALL and k == "language" else _fmt(row[k])
                 for k in keys]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def comparison_figure(table: Sequence[dict[str, Any]], mos_name: str = "predicted MOS") -> Figure:
    """Grouped bars per language (and overall): MOS on the left, CER on the right, TTS trained
    on the original corpus against TTS trained on the restored one."""
    labels = [r["language"] for r in table]
    x = np.arange(len(labels))
    fig = Figure(figsize=(max(6.0, 0.6 * len(labels) + 3), 9.0), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    for ax, metric, title in (
        (axes[0], "mos", mos_name),
        (axes[1], "cer", "CER (lower is better)"),
        (axes[2], "length", "length / recording's"),
    ):
        for k, (system, color) in enumerate(zip(SYSTEMS, ("tab:gray", "tab:blue"))):
            values = [r[f"{metric}_{system}"] for r in table]
            heights = [np.nan if v is None else v for v in values]
            ax.bar(x + (k - 0.5) * 0.4, heights, 0.4, label=f"TTS trained on {system}", color=color)
        ax.set_ylabel(title)
        if metric == "length":
            ax.axhline(1.0, color="black", linewidth=0.8)
        if all(r[f"{metric}_original"] is None for r in table):
            ax.text(0.5, 0.5, "not measured", transform=ax.transAxes, ha="center")
    axes[0].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    axes[2].set_xticks(x, labels, rotation=45, ha="right")
    fig.suptitle("TTS trained on the original vs the restored corpus (held-out sentences)")
    return fig


def write_report(
    rows: Sequence[dict[str, Any]], out: str | Path, extra: dict[str, Any] | None = None,
    mos_name: str = "MOS",
) -> list[dict[str, Any]]:  # fmt: skip
    """Write ``table.csv``, ``table.md``, ``table.json`` (table plus ``extra``) and
    ``comparison.png`` into ``out``; returns the table."""
    import pandas as pd

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = summarize(rows)
    pd.DataFrame(table).to_csv(out / "table.csv", index=False)
    (out / "table.md").write_text(to_markdown(table, mos_name), encoding="utf-8")
    payload = {"table": table, **(extra or {})}
    (out / "table.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False))
    comparison_figure(table, mos_name).savefig(out / "comparison.png", dpi=110)
    return table
