"""A corpus of bad inputs: the job completes and every input has a row with the right status."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import soundfile as sf

from fleursr.corpus.audio import write_audio
from fleursr.corpus.manifest import Corpus, rows_to_table
from fleursr.corpus.record import Utterance
from fleursr.corpus.testing import speech_like
from fleursr.jobs.batch.build import build, error_kind
from fleursr.jobs.batch.cluster import ClusterOptions
from fleursr.jobs.batch.pipeline import JobOptions

# id -> (expected status after filtering, expected error kind)
EXPECTED = {
    "good": ("kept", None),
    "corrupt": ("error", "CorruptAudioError"),
    "empty": ("error", "EmptyAudioError"),
    "nan": ("error", "NonFiniteAudioError"),
    "short_50ms": ("error", "TooShortAudioError"),
    "six_channels": ("kept", None),
    "eight_bit": ("kept", None),
    "rate_96k": ("kept", None),
    "ten_minutes": ("dropped", None),  # restored, then dropped by max_duration
    "missing": ("error", "MissingAudioError"),
    "latin1_text": ("error", "TextEncodingError"),
}


def _write_inputs(root) -> list[Utterance]:
    audio = root / "audio"
    audio.mkdir(parents=True)
    wave = speech_like(2.0, 16000)
    write_audio(audio / "good.flac", wave, 16000)
    (audio / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage" * 10)
    (audio / "empty.wav").write_bytes(b"")
    bad = wave.copy()
    bad[100:200] = np.nan
    sf.write(audio / "nan.wav", bad, 16000, subtype="FLOAT")
    sf.write(audio / "short_50ms.wav", wave[:800], 16000)
    sf.write(audio / "six_channels.wav", np.stack([wave] * 6, axis=1), 16000)
    sf.write(audio / "eight_bit.wav", wave, 16000, subtype="PCM_U8")
    sf.write(audio / "rate_96k.wav", speech_like(2.0, 96000), 96000)
    long = np.tile(speech_like(2.0, 8000), 300)  # 10 minutes at 8 kHz
    sf.write(audio / "ten_minutes.flac", long, 8000)
    write_audio(audio / "latin1_text.flac", wave, 16000)
    utts = []
    for uid in EXPECTED:
        suffix = ".flac" if uid in ("good", "ten_minutes", "latin1_text", "missing") else ".wav"
        utts.append(Utterance(id=uid, path=f"audio/{uid}{suffix}", language="fr_fr",
                              transcription="phrase numéro un", split="train",
                              num_samples=32000))  # fmt: skip
    return utts


def test_bad_inputs_each_get_a_row_with_the_right_status(tmp_path, models):
    corpus = tmp_path / "in"
    table = rows_to_table(_write_inputs(corpus))
    # a manifest written by another tool, whose text bytes are not UTF-8 for one row
    texts = [t.encode("latin-1" if uid == "latin1_text" else "utf-8")
             for uid, t in zip(table.column("id").to_pylist(),
                               table.column("transcription").to_pylist())]  # fmt: skip
    offsets = np.cumsum([0] + [len(t) for t in texts]).astype(np.int32)
    column = pa.Array.from_buffers(pa.string(), len(texts),
                                   [None, pa.py_buffer(offsets.tobytes()),
                                    pa.py_buffer(b"".join(texts))])  # fmt: skip
    table = table.set_column(table.schema.get_field_index("transcription"), "transcription", column)
    pq.write_table(table, corpus / "manifest.parquet")
    rules = tmp_path / "rules.yaml"
    rules.write_text("max_cer_restored: null\nmax_cer_increase: null\nmin_duration: 1.0\n")
    options = JobOptions(cluster=ClusterOptions(workers=2, processes=False, dashboard=False),
                         progress=False)  # fmt: skip
    result = build(corpus, tmp_path / "run", models["restorer"], asr=models["asr"], mos="none",
                   rules=str(rules), shard_size=4, options=options, report=False)  # fmt: skip
    rows = {u.id: u for u in Corpus(tmp_path / "run")}
    assert sorted(rows) == sorted(EXPECTED)
    for uid, (status, kind) in EXPECTED.items():
        utt = rows[uid]
        assert utt.status == status, (uid, utt.status, utt.error)
        assert (error_kind(utt.error) if utt.error else None) == kind, (uid, utt.error)
        if status != "error":
            wave, sr = Corpus(tmp_path / "run").load_audio(utt)
            assert sr == 24000 and wave.ndim == 1 and np.isfinite(wave).all()
            assert abs(len(wave) / sr - utt.extra["original_num_samples"]
                       / utt.extra["original_sampling_rate"]) < 0.01  # fmt: skip
    assert rows["ten_minutes"].extra["asr_restored"] is None  # too long for the ASR
    assert rows["ten_minutes"].extra["original_sampling_rate"] == 8000
    assert result.summary["errors_by_kind"] == {k: 1 for _, k in EXPECTED.values() if k is not None}
