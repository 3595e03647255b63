"""The dataset card (``README.md``) of a published run: YAML that ``datasets`` and the hub read
(configs per language plus ``all``, splits, languages, license, size category) and a body a
person reads (counts per language, scores before and after, the filter rules, the model)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import yaml

from fleursr.jobs.publish.hub import Export, run_metadata

SPLIT_ORDER = ("train", "dev", "test")
SIZES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"))  # fmt: skip


def size_category(rows: int) -> str:
    return next((name for bound, name in SIZES if rows < bound), "n>10M")


def _splits(names: set[str]) -> list[str]:
    return sorted(names, key=lambda s: (SPLIT_ORDER.index(s) if s in SPLIT_ORDER else 9, s))


def card_yaml(export: Export, license: str = "cc-by-4.0", pretty_name: str = "") -> dict[str, Any]:
    """The card's metadata: ``configs`` lists ``all`` (the default) and one per language."""
    all_splits = _splits({s for splits in export.counts.values() for s in splits})
    configs = [
        {
            "config_name": "all",
            "default": True,
            "data_files": [{"split": s, "path": f"data/*/{s}-*.parquet"} for s in all_splits],
        }
    ]
    for lang, splits in export.counts.items():
        configs.append(
            {
                "config_name": lang,
                "data_files": [
                    {"split": s, "path": f"data/{lang}/{s}-*.parquet"} for s in _splits(set(splits))
                ],
            }
        )
    languages = sorted({lang.split("_")[0] for lang in export.counts})
    meta = {"license": license, "language": languages,
            "multilinguality": "multilingual" if len(export.counts) > 1 else "monolingual",
            "size_categories": [size_category(export.rows)],
            "task_categories": ["text-to-speech", "automatic-speech-recognition"],
            "tags": ["speech-restoration", "fleurs-r", "fleursr"], "configs": configs}  # fmt: skip
    if pretty_name:
        meta["pretty_name"] = pretty_name
    return meta


def _fmt(value: Any) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else \
        f"{value:.3f}" if isinstance(value, float) else str(value)  # fmt: skip


def card_body(run_dir: str | os.PathLike, export: Export, repo_id: str,
              include_dropped: bool) -> str:  # fmt: skip
    from fleursr.quality.report import language_summary, load_scores

    meta = run_metadata(run_dir)
    what = "kept and dropped" if include_dropped else "kept"
    lines = [f"# {repo_id}", "",
             f"Restored speech (24 kHz) built with fleursr: every utterance restored with the "
             f"model `{meta['model']}`, scored before and after with the same ASR "
             f"(`{meta['asr']}`) and MOS predictor (`{meta['mos']}`), then filtered. Only "
             f"{what} utterances are published; utterances whose audio could not be read or "
             "restored are not.", "",
             "```python", "from datasets import load_dataset",
             f'ds = load_dataset("{repo_id}", "{next(iter(export.counts), "all")}")', "```", "",
             "## Utterances per language", "", "| language | " + " | ".join(SPLIT_ORDER) +
             " | total |", "|---|" + "---:|" * (len(SPLIT_ORDER) + 1)]  # fmt: skip
    for lang, splits in export.counts.items():
        cells = [str(splits.get(s, 0)) for s in SPLIT_ORDER]
        lines.append(f"| {lang} | " + " | ".join(cells) + f" | {sum(splits.values())} |")
    df = load_scores(run_dir)
    summary = language_summary(df, "original", "restored").reset_index()
    cols = ["utterances", "kept", "errors", "mos_original", "mos_restored", "cer_original",
            "cer_restored"]  # fmt: skip
    lines += [
        "",
        "## Scores before and after restoration (whole run)",
        "",
        "Predicted MOS is a relative measure here: no MOS predictor is validated on "
        "~100 languages. CER is the same ASR's on the original and restored audio.",
        "",
        "| language | " + " | ".join(cols) + " |",
        "|---|" + "---:|" * len(cols),
    ]
    for row in summary.to_dict("records"):
        lines.append(f"| {row['language']} | " + " | ".join(_fmt(row.get(c)) for c in cols) + " |")
    rules = meta["filter_rules"] or {}
    lines += ["", "## Filter rules", "", "| rule | threshold |", "|---|---|"]
    lines += [f"| `{k}` | {_fmt(v)} |" for k, v in rules.items()]
    lines += ["", "## Columns", "",
              "FLEURS columns (`id`, `path`, `audio`, `transcription`, `raw_transcription`, "
              "`gender`, `language`, `split`, `speaker_id`, `sentence_id`, `num_samples` at "
              "24 kHz), the filter `status` and `filter_reasons`, scores as `score_*` (suffix "
              "`_original` / `_restored`) and ASR transcripts as `asr_*`.", ""]  # fmt: skip
    return "\n".join(lines)


def write_card(folder: str | os.PathLike, run_dir: str | os.PathLike, export: Export,
               repo_id: str, license: str = "cc-by-4.0",
               include_dropped: bool = False) -> Path:  # fmt: skip
    """Write ``folder/README.md``; returns its path."""
    meta = card_yaml(export, license, pretty_name=repo_id.split("/")[-1])
    text = "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n\n"
    path = Path(folder) / "README.md"
    path.write_text(text + card_body(run_dir, export, repo_id, include_dropped), encoding="utf-8")
    return path
