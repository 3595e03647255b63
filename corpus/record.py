"""The utterance record every stage shares.

An utterance carries the FLEURS columns (``id``, ``path``, ``num_samples``, ``sampling_rate``,
``transcription``, ``raw_transcription``, ``gender``, ``language``, ``split``, ``speaker_id``)
plus room for what later stages add: ``scores`` (named floats such as ``dnsmos_ovrl_restored``),
``status`` and ``error`` (a bad utterance becomes a row, never a lost one), ``audio`` (embedded
bytes in the Hugging Face ``{"bytes", "path"}`` convention) and ``extra`` (any other column a
stage wants to keep, e.g. ``clean_path`` or ``degradations``).

``id`` is a string unique within a corpus. FLEURS' integer id names a *sentence* (several
speakers may read it); that lives in ``sentence_id`` so parallel sentences stay linked.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

STATUS_OK = "ok"
STATUS_ERROR = "error"
STATUS_KEPT = "kept"
STATUS_DROPPED = "dropped"

GENDERS = ("male", "female", "other", "unknown")
SPLITS = ("train", "dev", "test")

# Column name prefix under which ``scores`` are stored in a manifest (flat, so the Parquet
# file and the published dataset read naturally: ``score_dnsmos_ovrl``).
SCORE_PREFIX = "score_"


@dataclass
class Utterance:
    """One utterance of a corpus.

    ``path`` is relative to the corpus directory when the audio lives inside it, absolute
    otherwise. ``audio`` holds ``{"bytes": b"...", "path": name}`` when the audio is embedded;
    then ``path`` is only a name.
    """

    id: str
    path: str
    language: str
    num_samples: int = 0
    sampling_rate: int = 16000
    transcription: str = ""
    raw_transcription: str = ""
    gender: str = "unknown"
    split: str = "train"
    speaker_id: str = ""
    sentence_id: int = -1
    status: str = STATUS_OK
    error: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    audio: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("an utterance needs a non-empty id")
        if self.gender not in GENDERS:
            raise ValueError(f"utterance {self.id}: gender {self.gender!r} is not one of {GENDERS}")

    @property
    def duration(self) -> float:
        """Duration in seconds, from ``num_samples / sampling_rate``."""
        return self.num_samples / self.sampling_rate if self.sampling_rate else 0.0

    @property
    def ok(self) -> bool:
        return self.status != STATUS_ERROR

    def with_error(self, error: BaseException | str) -> Utterance:
        """A copy marked as failed, keeping the error's type and message."""
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        return dataclasses.replace(self, status=STATUS_ERROR, error=text)

    def to_row(self) -> dict[str, Any]:
        """A flat dict of columns (scores as ``score_<name>``, extra columns at top level)."""
        row: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name in ("scores", "extra"):
                continue
            row[f.name] = getattr(self, f.name)
        for name, value in self.scores.items():
            row[SCORE_PREFIX + name] = float(value)
        for name, value in self.extra.items():
            if name in row:
                raise ValueError(f"utterance {self.id}: extra column {name!r} shadows a field")
            row[name] = value
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Utterance:
        """Inverse of :meth:`to_row`; unknown columns go to ``extra``."""
        known = {f.name for f in dataclasses.fields(cls)} - {"scores", "extra"}
        kwargs: dict[str, Any] = {}
        scores: dict[str, float] = {}
        extra: dict[str, Any] = {}
        for name, value in row.items():
            if name in known:
                kwargs[name] = value
            elif name.startswith(SCORE_PREFIX):
                if value is not None:
                    scores[name[len(SCORE_PREFIX) :]] = float(value)
            else:
                extra[name] = value
        for name in ("num_samples", "sampling_rate", "sentence_id"):
            if kwargs.get(name) is not None:
                kwargs[name] = int(kwargs[name])
        for name in ("transcription", "raw_transcription", "speaker_id"):
            if kwargs.get(name) is None:
                kwargs.pop(name, None)
        if kwargs.get("audio") is not None and not kwargs["audio"].get("bytes"):
            kwargs["audio"] = None
        return cls(**kwargs, scores=scores, extra=extra)
