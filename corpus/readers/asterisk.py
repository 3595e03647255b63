"""Reader for Asterisk prompt packs: real recorded speech, one professional speaker per pack.

A pack is the sound tree of ``asterisk-core-sounds-LANG-FORMAT`` (one file per prompt, e.g.
``activated.g722``, ``digits/1.g722``) plus its transcript ``core-sounds-LANG.txt`` (Debian ships
it gzipped in ``asterisk-core-sounds-LANG``): lines ``name: text``, ``;`` comments, and texts
wholly in ``[...]``, ``(...)`` or ``<...>`` for non-speech (tones, beeps, silence). Two layouts
are found alone:

- the ``dpkg -x`` root of the Debian packages: ``usr/share/asterisk/sounds/en_US_f_Allison/``
  and ``usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz`` (several packs may be
  unpacked into one root; each transcript finds its sounds folder by language);
- the upstream tarball: the transcript inside the sounds folder.

Or give the sounds folder and ``transcripts=FILE``. Each prompt becomes an utterance: id
``asterisk_{lang}_{name}`` (``/`` as ``__``), FLEURS language from the pack (``en`` ->
``en_us``, ``es`` -> ``es_419``), one speaker per pack, gender from the voice folder's name
(Asterisk's ``<lang>_<REGION>_<f|m>_<Name>``, else ``unknown``), split 7:1:2 train/dev/test by a
hash of the prompt name (the same on every rerun and, as the packs are translations of one
prompt list, in every language; ``sentence_id`` links the translations), audio decoded to 16-bit
FLAC under ``audio_dir``.
Prompts that are non-speech, have no audio, no transcript text, or two different transcripts
are skipped, counted on stderr and listed in ``audio_dir/{pack}/skipped.tsv``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fleursr.corpus.audio import AudioError, CorruptAudioError, as_float32, read_audio, write_audio
from fleursr.corpus.languages import find_language, get_language
from fleursr.corpus.record import SPLITS, Utterance
from fleursr.corpus.text import decode_utf8, normalize_text

# Audio kinds a pack may hold for one prompt, best first: 16 kHz before telephone-band 8 kHz.
AUDIO_SUFFIXES = (".g722", ".sln16", ".flac", ".wav")
TRANSCRIPT_GLOBS = ("core-sounds-*.txt", "core-sounds-*.txt.gz")
_PACKAGE_DOCS = "usr/share/doc/*"
_SOUNDS_DIRS = ("usr/share/asterisk/sounds", "sounds")
_VOICE_DIR = re.compile(
    r"^(?P<lang>[a-z]{2,3})(?:_(?P<region>[A-Z]{2}))?_(?P<g>[fm])_(?P<name>\w+)$"
)
_WHOLLY_BRACKETED = re.compile(r"^\s*(\[[^\]]*\]|\([^)]*\)|<[^>]*>)\s*$")
_BRACKETED = re.compile(r"\[([^\]]*)\]")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")

SKIP_NON_SPEECH = "non-speech"
SKIP_NO_AUDIO = "no audio"
SKIP_NO_TEXT = "no transcript"
SKIP_CONFLICT = "conflicting transcripts"


@dataclass
class Pack:
    """One prompt pack: its transcript file, sounds folder, pack language tag and voice."""

    transcripts: Path
    sounds: Path
    tag: str  # the pack's language as Asterisk names it: "en", "es", "fr", "en_GB"
    language: str  # FLEURS code
    speaker_id: str
    gender: str


@dataclass
class PackScan:
    """What a pack holds: prompt name -> (audio file, raw text), and the skipped prompts."""

    pack: Pack
    prompts: dict[str, tuple[Path, str]] = field(default_factory=dict)
    skipped: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def skipped_count(self) -> int:
        return sum(len(v) for v in self.skipped.values())


def find_transcripts(root: str | os.PathLike) -> list[Path]:
    """Transcript files of the packs under ``root`` (upstream layout or a ``dpkg -x`` root)."""
    root = Path(root)
    found: dict[str, Path] = {}
    for where in (root, *root.glob(_PACKAGE_DOCS)):
        for pattern in TRANSCRIPT_GLOBS:
            for p in sorted(where.glob(pattern)):
                found.setdefault(_tag_of(p), p)  # core-sounds-en.txt beats core-sounds-en.txt.gz
    return [found[k] for k in sorted(found)]


def _tag_of(transcripts: Path) -> str:
    name = transcripts.name.removesuffix(".gz").removesuffix(".txt")
    return name.removeprefix("core-sounds-")


def fleurs_language(tag: str) -> str:
    """FLEURS code of an Asterisk pack language (``en`` -> ``en_us``, ``es_MX`` -> ``es_419``)."""
    base = tag.replace("-", "_").split("_")[0].lower()
    lang = find_language(base)
    if lang is None:
        raise ValueError(f"asterisk pack language {tag!r} is not a FLEURS language")
    return lang.code


def _has_audio(folder: Path) -> bool:
    return any(any(folder.glob(f"*{s}")) for s in AUDIO_SUFFIXES)


def _sounds_folder(root: Path, transcripts: Path, tag: str) -> Path:
    if _has_audio(transcripts.parent):
        return transcripts.parent
    base = tag.split("_")[0]
    candidates = sorted(
        d
        for parent in _SOUNDS_DIRS
        if (root / parent).is_dir()
        for d in (root / parent).iterdir()
        if d.is_dir() and (d.name == tag or d.name.split("_")[0] == base) and _has_audio(d)
    )
    if tag != base:  # "en_GB": the folder naming that region
        candidates = [d for d in candidates if d.name == tag or f"_{tag.split('_')[1]}_" in d.name]
    if len(candidates) != 1:
        what = "no" if not candidates else f"{len(candidates)} ({', '.join(map(str, candidates))})"
        raise ValueError(
            f"{transcripts}: {what} sounds folder for language {tag!r} under {root}; "
            "give the sounds folder and --transcripts FILE"
        )
    return candidates[0]


def _voice(sounds: Path, tag: str) -> tuple[str, str]:
    """(speaker_id, gender) from the voice folder's name, e.g. ``en_US_f_Allison``."""
    m = _VOICE_DIR.match(sounds.name)
    if m is None:
        return f"asterisk_{tag}", "unknown"
    return f"asterisk_{sounds.name}", {"f": "female", "m": "male"}[m["g"]]


def find_packs(root: str | os.PathLike, transcripts: str | os.PathLike | None = None) -> list[Pack]:
    """The packs under ``root``; with ``transcripts``, ``root`` is that pack's sounds folder."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    if transcripts is not None:
        pairs = [(Path(transcripts), root)]
        if not pairs[0][0].is_file():
            raise FileNotFoundError(f"{transcripts}: no such transcript file")
    else:
        files = find_transcripts(root)
        if not files:
            raise ValueError(
                f"{root}: no core-sounds-LANG.txt[.gz] transcript (looked in the folder and in "
                f"{_PACKAGE_DOCS}/); not an Asterisk prompt pack, or give --transcripts FILE"
            )
        pairs = [(t, _sounds_folder(root, t, _tag_of(t))) for t in files]
    packs = []
    for t, sounds in pairs:
        tag = _tag_of(t)
        speaker, gender = _voice(sounds, tag)
        packs.append(Pack(t, sounds, tag, fleurs_language(tag), speaker, gender))
    return packs


def read_transcripts(path: str | os.PathLike) -> list[tuple[int, str, str]]:
    """``(line number, prompt name, text)`` of every ``name: text`` line (gzip or plain)."""
    path = Path(path)
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    rows = []
    for lineno, line in enumerate(data.splitlines(), start=1):
        text, ok = decode_utf8(line)
        if not ok:
            text = line.decode("latin-1")  # older packs were written in Latin-1
        text = text.strip()
        if not text or text.startswith(";"):
            continue
        name, sep, said = text.partition(":")
        if not sep or not name.strip() or " " in name.strip():
            raise ValueError(f"{path}:{lineno}: expected 'name: text', got {text[:60]!r}")
        rows.append((lineno, name.strip(), said.strip()))
    return rows


def spoken_text(text: str) -> str | None:
    """The spoken words of a transcript text, ``None`` for non-speech.

    A text wholly in ``[...]``, ``(...)`` or ``<...>`` is non-speech (``[ascending tones]``,
    ``(1 second of silence)``, ``<beep ascending>``). Inside a text, ``[...]`` around symbols
    annotates the word before it and is dropped (``at [@]`` -> ``at``); around words it is
    read (``Sus saludos [temporales]``).
    """
    if _WHOLLY_BRACKETED.match(text):
        return None

    def inline(m: re.Match[str]) -> str:
        inner = m[1].strip()
        return inner if normalize_text(inner) else ""

    return re.sub(r"\s+", " ", _BRACKETED.sub(inline, text)).strip()


def _audio_files(sounds: Path) -> dict[str, Path]:
    """Prompt name (relative path without suffix) -> its best audio file."""
    best: dict[str, Path] = {}
    for suffix in reversed(AUDIO_SUFFIXES):  # better kinds overwrite worse ones
        for p in sounds.rglob(f"*{suffix}"):
            if p.is_file():
                best[p.relative_to(sounds).with_suffix("").as_posix()] = p
    return best


def scan_pack(pack: Pack) -> PackScan:
    """Match the transcript lines with the audio files; sort out what cannot be imported."""
    scan = PackScan(pack)
    audio = _audio_files(pack.sounds)
    by_fold: dict[str, list[str]] = defaultdict(list)
    for name in audio:
        by_fold[name.lower()].append(name)
    texts: dict[str, set[str]] = defaultdict(set)
    for _lineno, name, raw in read_transcripts(pack.transcripts):
        if name not in audio and len(by_fold.get(name.lower(), ())) == 1:
            name = by_fold[name.lower()][0]  # "digits/1f" names the file digits/1F.g722
        texts[name].add(raw)
    for name in sorted(set(texts) | set(audio)):
        said = texts.get(name, set())
        if name.startswith("silence/"):  # silence/1 .. silence/10, with or without a line
            scan.skipped[SKIP_NON_SPEECH].append(name)
        elif len(said) > 1:
            scan.skipped[SKIP_CONFLICT].append(name)
        elif name not in audio:
            scan.skipped[SKIP_NO_AUDIO].append(name)
        elif not said or not next(iter(said)):
            scan.skipped[SKIP_NO_TEXT].append(name)
        else:
            raw = spoken_text(next(iter(said)))
            if raw is None:
                scan.skipped[SKIP_NON_SPEECH].append(name)
            else:
                scan.prompts[name] = (audio[name], raw)
    return scan


def utterance_id(tag: str, name: str) -> str:
    """Path-safe id of a prompt: ``asterisk_en_digits__20``."""
    return f"asterisk_{tag}_" + "__".join(_UNSAFE.sub("_", part) for part in name.split("/"))


def _digest(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")


def hash_split(name: str) -> str:
    """7:1:2 train/dev/test from a hash of the prompt name: the same split on every rerun, and
    the same in every language (packs are translations of one prompt list, so, as in FLEURS,
    a prompt never crosses splits)."""
    bucket = _digest(name) % 10
    return "train" if bucket < 7 else "dev" if bucket < 8 else "test"


def prompt_sentence_id(name: str) -> int:
    """A stable 31-bit number for a prompt name: ``sentence_id``, which links translations."""
    return _digest(name) >> 33


def decode_prompt(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Mono float32 audio of a prompt file: raw G.722 (16 kHz) through PyAV, raw ``.sln16``
    (16-bit little-endian PCM, 16 kHz), or any file :func:`read_audio` reads."""
    path = Path(path)
    if path.suffix == ".sln16":
        data = path.read_bytes()
        return as_float32(np.frombuffer(data[: len(data) // 2 * 2], "<i2")), 16000
    if path.suffix != ".g722":
        return read_audio(path)
    import av

    try:
        with av.open(str(path), format="g722") as container:
            stream = container.streams.audio[0]
            sr = stream.codec_context.sample_rate
            chunks = [f.to_ndarray().reshape(-1) for f in container.decode(stream)]
    except av.error.FFmpegError as err:
        raise CorruptAudioError(path, f"cannot decode G.722 ({err})") from err
    wave = as_float32(np.concatenate(chunks)) if chunks else np.zeros(0, np.float32)
    if wave.size == 0:
        raise CorruptAudioError(path, "G.722 stream decodes to zero samples")
    return wave, sr


def _report(scan: PackScan, audio_dir: Path) -> None:
    pack = scan.pack
    parts = [f"{reason} {len(names)}" for reason, names in sorted(scan.skipped.items())]
    print(
        f"asterisk {pack.tag} ({pack.sounds.name}): {len(scan.prompts)} prompts to import, "
        f"{scan.skipped_count()} skipped" + (f" ({', '.join(parts)})" if parts else ""),
        file=sys.stderr,
    )
    if scan.skipped:
        out = audio_dir / pack.tag / "skipped.tsv"
        out.parent.mkdir(parents=True, exist_ok=True)
        rows = [f"{n}\t{r}" for r, names in sorted(scan.skipped.items()) for n in names]
        out.write_text("prompt\treason\n" + "\n".join(rows) + "\n", encoding="utf-8")


def read_asterisk(
    root: str | os.PathLike,
    *,
    transcripts: str | os.PathLike | None = None,
    audio_dir: str | os.PathLike | None = None,
    language: str | None = None,
    split: str | None = None,
    report: bool = True,
) -> Iterator[Utterance]:
    """Yield the utterances of the Asterisk prompt packs under ``root``.

    Args:
        root: a ``dpkg -x`` root or upstream sounds folder; with ``transcripts``, the sounds
            folder of one pack.
        transcripts: the pack's ``core-sounds-LANG.txt[.gz]``.
        audio_dir: where the decoded FLAC files go (``{audio_dir}/{tag}/{split}/{id}.flac``);
            required: a raw ``.g722`` bitstream is not a file the other stages read.
        language: FLEURS code for every row, instead of the one the pack's name gives.
        split: put every row in this split instead of the hashed 7:1:2 split.
        report: print each pack's counts (imported, skipped by reason) on stderr.
    """
    if split is not None and split not in SPLITS:
        raise ValueError(f"split {split!r} is not one of {SPLITS}")
    if audio_dir is None:
        raise ValueError("read_asterisk needs audio_dir: the folder the decoded FLAC files go to")
    out = Path(audio_dir)
    for pack in find_packs(root, transcripts):
        scan = scan_pack(pack)
        if report:
            _report(scan, out)
        code = get_language(language).code if language else pack.language
        for name, (src, raw) in scan.prompts.items():
            uid = utterance_id(pack.tag, name)
            utt = Utterance(
                id=uid,
                path=os.path.abspath(src),
                language=code,
                transcription=normalize_text(raw),
                raw_transcription=raw,
                gender=pack.gender,
                split=split or hash_split(name),
                speaker_id=pack.speaker_id,
                sentence_id=prompt_sentence_id(name),
                extra={"prompt": name},
            )
            target = (out / pack.tag / utt.split / f"{uid}.flac").resolve()
            try:
                wave, sr = decode_prompt(src)
            except (OSError, AudioError) as err:  # a damaged file stays as an error row
                yield utt.with_error(err)
                continue
            write_audio(target, wave, sr)
            utt.path, utt.num_samples, utt.sampling_rate = str(target), len(wave), sr
            yield utt
