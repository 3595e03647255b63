"""Sidon: speech restoration by resynthesis from cleaned w2v-BERT 2.0 features, behind the
project's :class:`~fleursr.restore.base.SpeechRestorer` interface (24 kHz out).

Sidon's released models (hub ``sarulab-speech/sidon-v0.1``) are two TorchScript files, each
exported per device (``cpu`` and ``cuda``); the interface assumed here:

- ``feature_extractor_{cpu,cuda}.pt``: ``input_features`` ``(batch, frames, 160)`` float32 ->
  a dict whose ``"last_hidden_state"`` is ``(batch, frames, dim)`` (1024 for the release):
  the cleaned features. The input is the SeamlessM4T filterbank of 16 kHz audio, as w2v-BERT
  2.0 takes it: 80 log-mel bins every 10 ms, normalized per bin, two frames stacked (160 wide,
  50 Hz). It is computed with ``transformers.SeamlessM4TFeatureExtractor`` and w2v-BERT 2.0's
  settings (padding value 1), built locally, so nothing is downloaded for it;
- ``decoder_{cpu,cuda}.pt``: ``(batch, dim, frames)`` -> ``(batch, 1, frames * 960)``: 48 kHz
  audio, 960 samples (20 ms) per frame.

File names are settable (``feature_extractor_file``, ``decoder_file``) for other exports. The
audio is prepared the way the release's demo does it: peak to 0.9, a 50 Hz high-pass, 10 ms of
zeros on each side of every chunk (which delays the output by 480 samples at 48 kHz: removed),
a short tail of zeros so the end is not cut; the peak scaling is undone at the end so the level
follows the input. Long recordings go through chunks of ``chunk_seconds``, the last feature
frame of one chunk carried into the next so the decoder runs on across the seam.

Recordings are restored one at a time: the TorchScript extractor takes no padding mask, so
batching padded rows would change what it sees.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from scipy import signal

from fleursr.corpus.audio import resample
from fleursr.nn.pretrained import is_hub_id
from fleursr.nn.runtime import resolve_device
from fleursr.restore.base import SpeechRestorer

SIDON_HUB_ID = "sarulab-speech/sidon-v0.1"
MODEL_RATE = 16000  # the feature extractor's input rate
DECODER_RATE = 48000  # the decoder's output rate
FRAME = 320  # input samples per feature frame (20 ms at 16 kHz)
SAMPLES_PER_FRAME = 960  # decoder output samples per feature frame
EDGE = 160  # zeros on each side of a chunk at 16 kHz (10 ms)
DELAY = EDGE * DECODER_RATE // MODEL_RATE  # what the left edge delays the output by


def check_source(source: str | os.PathLike) -> None:
    """``FileNotFoundError`` where ``source`` is neither a directory nor a hub id."""
    if not is_hub_id(source) and not Path(source).expanduser().is_dir():
        raise FileNotFoundError(f"sidon:{source}: no such directory (and not a hub id ORG/NAME)")


def model_dir(source: str | os.PathLike, files: list[str], revision: str | None = None) -> Path:
    """The directory holding ``files``: ``source`` itself, or a hub snapshot of them."""
    check_source(source)
    if Path(source).expanduser().is_dir():
        root = Path(source).expanduser()
    else:
        from huggingface_hub import snapshot_download

        root = Path(snapshot_download(str(source), allow_patterns=files, revision=revision))
    missing = [f for f in files if not (root / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{source}: no {', '.join(missing)} (Sidon's TorchScript files; set "
            "feature_extractor_file and decoder_file for other names)"
        )
    return root


def seamless_fbank() -> Any:
    """The SeamlessM4T filterbank with w2v-BERT 2.0's settings (80 bins, stride 2, 16 kHz)."""
    from transformers import SeamlessM4TFeatureExtractor

    return SeamlessM4TFeatureExtractor(feature_size=80, num_mel_bins=80, sampling_rate=MODEL_RATE,
                                       stride=2, padding_value=1.0)  # fmt: skip


class Sidon(SpeechRestorer):
    """Sidon from a local directory or a hub id (default ``sarulab-speech/sidon-v0.1``)."""

    name = "sidon"
    input_sample_rate = MODEL_RATE

    def __init__(
        self, source: str | os.PathLike = SIDON_HUB_ID, device: str = "auto",
        feature_extractor_file: str | None = None, decoder_file: str | None = None,
        chunk_seconds: float = 60.0, tail_seconds: float = 0.5, highpass_hz: float = 50.0,
        revision: str | None = None,
    ) -> None:  # fmt: skip
        import torch

        self.device = resolve_device(device)
        kind = "cuda" if self.device.type == "cuda" else "cpu"
        self.files = [feature_extractor_file or f"feature_extractor_{kind}.pt",
                      decoder_file or f"decoder_{kind}.pt"]  # fmt: skip
        self.source = str(source)
        root = model_dir(source, self.files, revision)
        self.feature_extractor = torch.jit.load(str(root / self.files[0]),
                                                map_location=self.device).eval()  # fmt: skip
        self.decoder = torch.jit.load(str(root / self.files[1]), map_location=self.device).eval()
        self.fbank = seamless_fbank()
        if chunk_seconds < 1.0:
            raise ValueError(f"chunk_seconds must be at least 1, got {chunk_seconds}")
        self.chunk = int(chunk_seconds * MODEL_RATE) // FRAME * FRAME
        self.tail = int(tail_seconds * MODEL_RATE)
        self.highpass_hz = float(highpass_hz)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "files": self.files,
                "chunk_samples": self.chunk, "highpass_hz": self.highpass_hz}  # fmt: skip

    def _bounds(self, n: int) -> list[tuple[int, int]]:
        """Chunks of ``self.chunk`` samples; a remainder under a second joins the last one."""
        starts = list(range(0, n, self.chunk))
        if len(starts) > 1 and n - starts[-1] < MODEL_RATE:
            starts.pop()
        return [(s, starts[i + 1] if i + 1 < len(starts) else n) for i, s in enumerate(starts)]

    def _features(self, segment: np.ndarray) -> Any:
        import torch

        padded = np.pad(segment, (EDGE, EDGE)).astype(np.float32)
        feats = self.fbank(padded, sampling_rate=MODEL_RATE, return_tensors="np")
        return torch.from_numpy(np.asarray(feats["input_features"], np.float32)).to(self.device)

    def _decode(self, x: np.ndarray) -> np.ndarray:
        """Prepared 16 kHz audio -> 48 kHz restored audio (about three times as long)."""
        import torch

        peak = float(np.abs(x).max())
        if peak < 1e-9:
            return np.zeros(len(x) * 3, np.float32)
        scale = 0.9 / peak
        y = x * scale
        if self.highpass_hz > 0:
            sos = signal.butter(2, self.highpass_hz, "highpass", fs=MODEL_RATE, output="sos")
            y = signal.sosfilt(sos, y)
        y = np.concatenate([y, np.zeros(self.tail)]).astype(np.float32)
        pieces, carried = [], None
        with torch.inference_mode():
            for start, stop in self._bounds(len(y)):
                hidden = self.feature_extractor(self._features(y[start:stop]))["last_hidden_state"]
                if carried is not None:
                    hidden = torch.cat([carried, hidden], dim=1)
                wave = self.decoder(hidden.transpose(1, 2)).reshape(-1)
                pieces.append(wave[:-SAMPLES_PER_FRAME].float().cpu())
                carried = hidden[:, -1:]
        return torch.cat(pieces).numpy()[DELAY:] / scale

    def restore(self, wave: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
        x = self.prepare(wave, sr)
        n = self.output_length(len(x))
        out = resample(np.ascontiguousarray(self._decode(x), np.float32), DECODER_RATE,
                       self.sample_rate)  # fmt: skip
        out = out[:n]
        if len(out) < n:
            out = np.concatenate([out, np.zeros(n - len(out), np.float32)])
        return np.ascontiguousarray(out, np.float32), self.sample_rate


__all__ = ["SIDON_HUB_ID", "Sidon", "check_source", "model_dir", "seamless_fbank"]
