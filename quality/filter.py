"""Filter rules as data: which restored utterances to keep, and why each dropped one went.

A rule reads scores that earlier stages put in the manifest (``score_<name>`` columns, e.g.
``cer_original``, ``cer_restored``, ``dnsmos_ovrl_original``, ``dnsmos_ovrl_restored``). Defaults
follow what corpus builders use (the project's field notes): Emilia keeps DNSMOS OVRL >= 3.0 and
durations of 3..30 s; NeMo calls a WER of 10..25 % "good"; FLEURS-R kept CER close to the
original's under the same ASR. A rule whose scores are missing is not applied (an utterance
without a transcript has no CER); ``None`` switches a rule off.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from fleursr.corpus.config import Config
from fleursr.corpus.record import STATUS_DROPPED, STATUS_ERROR, STATUS_KEPT, Utterance


@dataclass
class FilterRules(Config):
    max_cer_restored: float | None = 0.25  # NeMo: 10..25 % is "good"
    max_cer_increase: float | None = 0.05  # restored CER minus original CER (FLEURS-R: close)
    min_mos_restored: float | None = 3.0  # Emilia keeps DNSMOS OVRL >= 3.0
    min_mos_gain: float | None = 0.0  # restoration must not make it sound worse
    min_duration: float | None = 3.0  # seconds (Emilia: 3..30 s)
    max_duration: float | None = 30.0
    mos: str = "dnsmos_ovrl"  # which predicted MOS the MOS rules read
    cer: str = "cer"

    @classmethod
    def load(cls, path: str | os.PathLike | None) -> FilterRules:
        """Defaults, overridden by a YAML/JSON file of rules when given."""
        if path is None:
            return cls()
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: filter rules file does not exist")
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of rule names to thresholds")
        return cls.from_dict(data)


def failed_rules(utt: Utterance, rules: FilterRules) -> list[str]:
    """Names of the rules ``utt`` fails (empty: keep it)."""
    s = utt.scores
    cer_r, cer_o = s.get(f"{rules.cer}_restored"), s.get(f"{rules.cer}_original")
    mos_r, mos_o = s.get(f"{rules.mos}_restored"), s.get(f"{rules.mos}_original")
    checks = {
        "max_cer_restored": cer_r is not None and rules.max_cer_restored is not None
        and cer_r > rules.max_cer_restored,
        "max_cer_increase": None not in (cer_r, cer_o, rules.max_cer_increase)
        and cer_r - cer_o > rules.max_cer_increase,
        "min_mos_restored": mos_r is not None and rules.min_mos_restored is not None
        and mos_r < rules.min_mos_restored,
        "min_mos_gain": None not in (mos_r, mos_o, rules.min_mos_gain)
        and mos_r - mos_o < rules.min_mos_gain,
        "min_duration": rules.min_duration is not None and utt.duration < rules.min_duration,
        "max_duration": rules.max_duration is not None and utt.duration > rules.max_duration,
    }  # fmt: skip
    return [name for name, failed in checks.items() if failed]


def apply_rules(utts: Iterable[Utterance], rules: FilterRules) -> Iterator[Utterance]:
    """Mark each utterance kept or dropped; ``filter_reasons`` (JSON list) says why.
    Utterances that errored earlier stay errors."""
    for utt in utts:
        if utt.status == STATUS_ERROR:
            yield dataclasses.replace(utt, extra={**utt.extra, "filter_reasons": None})
            continue
        reasons = failed_rules(utt, rules)
        yield dataclasses.replace(
            utt, status=STATUS_DROPPED if reasons else STATUS_KEPT,
            extra={**utt.extra, "filter_reasons": json.dumps(reasons)},
        )  # fmt: skip


def filter_counts(utts: Iterable[Utterance]) -> dict[str, dict[str, int]]:
    """Per language: kept, dropped, errors, and how often each rule dropped an utterance."""
    out: dict[str, Counter] = {}
    for utt in utts:
        c = out.setdefault(utt.language, Counter())
        c[utt.status] += 1
        for reason in json.loads(utt.extra.get("filter_reasons") or "[]"):
            c[f"rule:{reason}"] += 1
    return {lang: dict(c) for lang, c in sorted(out.items())}


def filter_corpus(run_dir: str | os.PathLike, rules: FilterRules) -> dict[str, dict[str, int]]:
    """Apply ``rules`` to a scored run directory in place (the manifest is rewritten atomically
    with ``status`` kept/dropped and ``filter_reasons``); returns :func:`filter_counts`."""
    from fleursr.corpus.manifest import Corpus, write_manifest

    corpus = Corpus(run_dir)
    write_manifest(corpus.root, apply_rules(corpus, rules))
    return filter_counts(Corpus(run_dir))


def format_counts(counts: dict[str, dict[str, int]]) -> str:
    """A per-language table of kept / dropped / errors and the rules that dropped most."""
    lines = [f"{'language':<14}{'kept':>6}{'dropped':>9}{'errors':>8}  dropped by"]
    total: Counter = Counter()
    for lang, c in counts.items():
        total.update(c)
        rules = ", ".join(f"{k[5:]} {v}" for k, v in sorted(c.items()) if k.startswith("rule:"))
        lines.append(f"{lang:<14}{c.get(STATUS_KEPT, 0):>6}{c.get(STATUS_DROPPED, 0):>9}"
                     f"{c.get(STATUS_ERROR, 0):>8}  {rules}")  # fmt: skip
    rules = ", ".join(f"{k[5:]} {v}" for k, v in sorted(total.items()) if k.startswith("rule:"))
    lines.append(f"{'all':<14}{total.get(STATUS_KEPT, 0):>6}{total.get(STATUS_DROPPED, 0):>9}"
                 f"{total.get(STATUS_ERROR, 0):>8}  {rules}")  # fmt: skip
    return "\n".join(lines)
