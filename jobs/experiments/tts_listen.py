"""The experiment's listening page: ``index.html``, one row per held-out sentence with an audio
player for each voice and for the sentence's recordings, beside what Whisper heard and the
scores, so a listener checks the table's verdict with their own ears.

The page is static (no script, no network): it links the FLAC files the comparison wrote under
its folder (relative paths), so the folder can be copied or served as it is.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fleursr.jobs.experiments.tts_report import SYSTEMS

_STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: 0.4em; vertical-align: top; }
th { background: #f3f3f3; }
audio { width: 15em; }
.heard { color: #555; font-size: 0.9em; }
"""


def _audio(path: str | None) -> str:
    if path is None:
        return "-"
    return f'<audio controls preload="none" src="{html.escape(path)}"></audio>'


def _voice_cell(row: dict[str, Any] | None, mos_name: str) -> str:
    if row is None:
        return "-"
    parts = [_audio(f"{row['system']}/audio/{row['id']}.flac")]
    scores = []
    if row.get("mos") is not None:
        scores.append(f"{mos_name} {row['mos']:.2f}")
    scores.append(f"{row['seconds']:.1f} s")
    parts.append(f"<div>{html.escape(', '.join(scores))}</div>")
    if row.get("hypothesis") is not None:
        parts.append(f'<div class="heard">heard: {html.escape(str(row["hypothesis"]))}</div>')
    return "".join(parts)


def write_listening_page(
    rows: Sequence[dict[str, Any]], recordings: dict[str, dict[str, str]], out: str | Path,
    mos_name: str = "MOS",
) -> Path:  # fmt: skip
    """Write ``out/index.html`` from the comparison's ``rows`` (one per system and sentence, as
    in ``results.csv``) and ``recordings`` (``{id: {corpus: path relative to out}}``);
    returns its path."""
    out = Path(out)
    by_key = {(r["system"], r["id"]): r for r in rows}
    ids = list(dict.fromkeys(r["id"] for r in rows))
    first = {r["id"]: r for r in reversed(rows)}
    head = ["language", "sentence"]
    head += [f"TTS trained on {s}" for s in SYSTEMS]
    head += [f"recording ({s} corpus)" for s in SYSTEMS]
    lines = [
        "<!doctype html>",
        '<html><head><meta charset="utf-8"><title>TTS: original vs restored</title>',
        f"<style>{_STYLE}</style></head><body>",
        "<h1>TTS trained on the original vs on the restored corpus</h1>",
        "<p>Held-out sentences, the same text and speaker for both voices, rendered by the same "
        "vocoder; beside them the sentence's recordings, which neither voice trained on. "
        '<a href="table.md">table</a>, <a href="comparison.png">plots</a>, '
        '<a href="results.csv">every score</a>.</p>',
        "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>",
    ]
    for uid in ids:
        row = first[uid]
        cells = [html.escape(row["language"]), html.escape(str(row["reference"]))]
        cells += [_voice_cell(by_key.get((s, uid)), mos_name) for s in SYSTEMS]
        cells += [_audio(recordings.get(uid, {}).get(s)) for s in SYSTEMS]
        lines.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    lines += ["</table>", "</body></html>", ""]
    path = out / "index.html"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
