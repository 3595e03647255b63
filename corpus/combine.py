"""Put utterances of one corpus into another: their audio copied in, the manifest rewritten.

The demo uses it to set real recorded speech (``recipes/real_speech.sh``) beside its espeak-ng
corpus, so one build restores, scores and reports both.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from fleursr.corpus.manifest import Corpus, write_manifest
from fleursr.corpus.record import Utterance


def pick_per_language(
    corpus: Corpus,
    per_language: int,
    split: str | None = "test",
    languages: Iterable[str] = (),
    min_seconds: float = 0.0,
) -> list[Utterance]:
    """The first ``per_language`` usable rows of each language (id order: the same rows on every
    run), from ``split`` (``None``: any) and ``languages`` (empty: all), at least ``min_seconds``
    long."""
    wanted = set(languages)
    groups: dict[str, list[Utterance]] = defaultdict(list)
    for utt in sorted(corpus, key=lambda u: u.id):
        if not utt.ok or (split is not None and utt.split != split) or utt.duration < min_seconds:
            continue
        if wanted and utt.language not in wanted:
            continue
        if len(groups[utt.language]) < per_language:
            groups[utt.language].append(utt)
    return [u for language in sorted(groups) for u in groups[language]]


def add_utterances(
    target: str | os.PathLike, source: Corpus, utts: Iterable[Utterance], folder: str = "added"
) -> int:
    """Copy ``utts`` of ``source`` (their audio into ``target/audio/FOLDER``) into the corpus at
    ``target``; returns how many were added. Ids already in ``target`` raise ``ValueError``
    before anything is copied, naming the id and both corpora."""
    dest = Corpus(target)
    rows = list(dest)
    ids = {u.id for u in rows}
    utts = list(utts)
    for utt in utts:
        if utt.id in ids:
            raise ValueError(
                f"{source.root}: utterance id {utt.id!r} is already in {dest.root}; "
                "a corpus holds each id once"
            )
        ids.add(utt.id)
    audio = dest.root / "audio" / folder
    audio.mkdir(parents=True, exist_ok=True)
    added = []
    for utt in utts:
        if utt.audio is not None:  # embedded bytes travel in the row
            added.append(dataclasses.replace(utt))
            continue
        src = source.resolve(utt.path)
        if not src.is_file():
            raise FileNotFoundError(f"{source.manifest}: {utt.id}: no audio file at {src}")
        name = f"{utt.id}{src.suffix}"
        shutil.copyfile(src, audio / name)
        added.append(dataclasses.replace(utt, path=(Path("audio") / folder / name).as_posix()))
    write_manifest(dest.root, [*rows, *added])
    return len(added)
