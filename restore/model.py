"""The Restorer: features -> cleaner -> WaveFit vocoder, 24 kHz out, for audio of any shape.

Inference code touches only this class. ``Restorer.from_pretrained(dir_or_hub_id)`` loads a
checkpoint (``config.json`` + ``model.safetensors``; never a pickle; ``fleursr.nn.pretrained``),
``restore(wave, sr)``
restores one recording of any rate, channel count, dtype and length, ``restore_batch`` sorts by
length to cut padding. Audio longer than ``window_seconds`` goes through overlapping windows
cross-faded with complementary raised-cosine ramps, so working memory does not grow with
duration; ``restore_stream`` takes the recording and gives the output block by block through the
same windows (one implementation, ``_restore_windows``), so neither does the audio's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from fleursr.corpus.audio import resample
from fleursr.corpus.audio_stream import StreamResampler, resample_blocks
from fleursr.nn import lengths_to_mask
from fleursr.nn.pretrained import Pretrained
from fleursr.restore.band import build_band
from fleursr.restore.base import (
    OUTPUT_SAMPLE_RATE,
    FeatureExtractor,
    SpeechRestorer,
    check_sample_rate,
    mono_float32,
    prepare_audio,
)
from fleursr.restore.cleaner import build_cleaner
from fleursr.restore.conceal import conceal
from fleursr.restore.config import RestorerConfig
from fleursr.restore.features import MelFeatures, build_features
from fleursr.restore.wavefit import WaveFit, WaveFitConfig


def build_vocoder(features: FeatureExtractor, cfg: RestorerConfig, out_sr: int) -> WaveFit:
    """WaveFit sized by ``cfg.vocoder["size"]``, with width, hop and gain mode derived from the
    features: the 24 kHz log-mel conditions with mel power matching, anything else with peak
    normalization (there is no target power to match)."""
    settings = dict(cfg.vocoder)
    size = settings.pop("size", "embedded")
    if size not in ("tiny", "embedded", "full"):
        raise ValueError(f"unknown vocoder size {size!r}: expected tiny, embedded or full")
    hop = features.hop_length * out_sr / features.sample_rate
    if hop != int(hop):
        raise ValueError(
            f"feature hop {features.hop_length} at {features.sample_rate} Hz is not a whole "
            f"number of samples at {out_sr} Hz"
        )
    derived: dict[str, Any] = {"cond_dim": features.dim, "hop_length": int(hop),
                               "sample_rate": out_sr, "gain": "peak", "mel": None}  # fmt: skip
    if isinstance(features, MelFeatures) and features.sample_rate == out_sr:
        derived.update(gain="mel", mel=features.mel_config)
    return WaveFit(getattr(WaveFitConfig, size)(**{**settings, **derived}))


#: WaveFit options added after checkpoint format 1 and their version-1 values: a checkpoint
#: using any other value is written as format 2 with all of them spelled out (a later change
#: of a default or preset then cannot change it).
VERSION_2_OPTIONS = {"start": "griffin-lim", "network": "wave"}
SPELLED_OUT = ("start", "start_fallback", "network", "stft_dim", "stft_blocks", "stft_mult",
               "stft_kernel", "stft_n_fft")  # fmt: skip


class Restorer(nn.Module, Pretrained, SpeechRestorer):
    """Miipher-style speech restoration. ``config`` is a ``RestorerConfig`` as a dict."""

    name = "fleursr"

    checkpoint_format = "fleursr-restorer"
    format_version = 2  # reads 1 and 2; an instance writes 1 unless it uses VERSION_2_OPTIONS
    shipped_dir = Path(__file__).parent / "weights" / "embedded"
    shipped_what = "embedded restoration weights"
    shipped_hint = "train a model (docs/restoration.md) and pass its directory with --model DIR"

    def __init__(self, config: dict[str, Any], features: FeatureExtractor | None = None) -> None:
        """``features`` replaces the extractor the config names (an in-memory encoder, e.g. for
        benchmarks with random weights); it must produce what the config describes."""
        super().__init__()
        self.cfg = RestorerConfig.from_dict(config)
        self.features = features if features is not None else build_features(self.cfg.features)
        self.cleaner = build_cleaner(self.features.dim, self.cfg.cleaner)
        self.vocoder = build_vocoder(self.features, self.cfg, OUTPUT_SAMPLE_RATE)
        self.sample_rate = OUTPUT_SAMPLE_RATE
        self.band = build_band(self.cfg.band_extension, self.cfg.input_band_rate, self.vocoder)
        voc = self.vocoder.config
        new = any(getattr(voc, k) != v for k, v in VERSION_2_OPTIONS.items())
        self.format_version = 2 if new else 1  # type: ignore[misc]
        if new:
            self.cfg.vocoder = {**self.cfg.vocoder, **{k: getattr(voc, k) for k in SPELLED_OUT}}

    # ----------------------------------------------------------------- core forward pass
    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def input_sample_rate(self) -> int:
        return self.features.sample_rate

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.cfg.to_dict()}

    def forward(
        self,
        waves: torch.Tensor,
        lengths: torch.Tensor | None = None,
        steps: int | None = None,
        generator: torch.Generator | None = None,
        reference: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(batch, samples)`` at ``input_sample_rate`` -> ``(batch, out_samples)`` at 24 kHz
        and the valid output lengths ``(batch,)``. A vocoder that starts from the input
        (start="degraded") gets ``reference`` ``(batch, out_samples)``, the input at 24 kHz
        (default: ``waves``, resampled when the input rate differs)."""
        if lengths is None:
            lengths = torch.full((waves.shape[0],), waves.shape[1], device=waves.device)
        out_lengths = lengths * self.sample_rate // self.features.sample_rate
        if reference is None and self.vocoder.uses_reference:
            reference = self._reference(waves, lengths, out_lengths)
        feats, frames = self.features(waves, lengths)
        mask = lengths_to_mask(frames, feats.shape[1])
        cleaned = self.cleaner(feats, mask)
        audio = self.vocoder(cleaned, mask, steps=steps, generator=generator, reference=reference)
        if self.band is not None:
            audio = self.band(self.vocoder, cleaned, audio, mask, feats)
        # SSL encoders leave up to a few tens of ms at the end without a frame: pad with zeros.
        audio = torch.nn.functional.pad(audio, (0, max(0, int(out_lengths.max()) - audio.shape[1])))
        audio = audio[:, : int(out_lengths.max())]
        return audio * lengths_to_mask(out_lengths, audio.shape[1]), out_lengths

    def _reference(
        self, waves: torch.Tensor, lengths: torch.Tensor, out_lengths: torch.Tensor
    ) -> torch.Tensor:
        """``waves`` at the output rate, each row resampled (soxr) over its valid samples."""
        if self.input_sample_rate == self.sample_rate:
            return waves
        rows = [self._at_output_rate(w[: int(n)].float().cpu().numpy())
                for w, n in zip(waves, lengths)]  # fmt: skip
        return self._pad(rows, out_lengths)

    def _at_output_rate(self, x: np.ndarray) -> np.ndarray:
        return resample(x, self.input_sample_rate, self.sample_rate)

    def _pad(self, xs: Sequence[np.ndarray], lengths: torch.Tensor) -> torch.Tensor:
        """Zero-padded ``(batch, max(lengths))`` of ``xs``, each cut to its length."""
        batch = torch.zeros(len(xs), int(lengths.max()), device=self.device)
        for i, (x, n) in enumerate(zip(xs, lengths.tolist())):
            x = torch.from_numpy(np.ascontiguousarray(x[:n], dtype=np.float32))
            batch[i, : len(x)] = x
        return batch

    # ------------------------------------------------------------------- numpy inference
    def _generator(self, offset: int = 0) -> torch.Generator:
        return torch.Generator(device=self.device).manual_seed(self.cfg.seed + offset)

    @torch.inference_mode()
    def _run(
        self,
        xs: Sequence[np.ndarray],
        offset: int = 0,
        references: Sequence[np.ndarray] | None = None,
    ) -> list[np.ndarray]:
        """Restore a padded batch of prepared waves; returns each at its own output length.
        ``references``: the same waves at 24 kHz, for a vocoder that starts from its input
        (default: ``xs`` resampled)."""
        if self.cfg.conceal:  # lost packets filled first (restore/conceal.py); references of them
            band, references = self.cfg.input_band_rate, None
            xs = [conceal(x, self.input_sample_rate, band) for x in xs]
        lengths = torch.tensor([len(x) for x in xs], device=self.device)
        batch = self._pad(xs, lengths)
        reference = None
        if self.vocoder.uses_reference:
            if references is None:
                references = [self._at_output_rate(x) for x in xs]
            out_lengths = torch.tensor([self.output_length(len(x)) for x in xs])
            reference = self._pad(references, out_lengths)
        with self._autocast():
            out, out_lengths = self(batch, lengths, generator=self._generator(offset),
                                    reference=reference)  # fmt: skip
        out = out.float().cpu().numpy()
        return [out[i, : int(n)] for i, n in enumerate(out_lengths)]

    def _autocast(self) -> torch.autocast:
        enabled = self.device.type == "cuda" and self.cfg.half_precision
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=enabled)

    def _window_plan(self, n: int) -> tuple[int, int, list[int]]:
        hop = self.features.hop_length
        win = max(hop, int(self.cfg.window_seconds * self.input_sample_rate) // hop * hop)
        overlap = min(win // 2, max(hop, int(self.cfg.overlap_seconds * self.input_sample_rate)))
        overlap = overlap // hop * hop
        step = win - overlap
        count = max(1, math.ceil((n - overlap) / step))
        return win, overlap, [k * step for k in range(count)]

    def _restore_long(self, x: np.ndarray) -> np.ndarray:
        out = np.empty(self.output_length(len(x)), dtype=np.float32)
        done = 0
        for piece in self._restore_windows([x]):
            out[done : done + len(piece)] = piece
            done += len(piece)
        return out

    def _restore_windows(self, blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Restore prepared input arriving as consecutive blocks, window by window (the plan of
        :meth:`_window_plan`, ``window_batch`` windows run together), the overlaps cross-faded
        with complementary raised-cosine ramps. Yields the output in consecutive pieces, each as
        soon as no later window adds to it; together ``output_length(n)`` samples. Holds about
        ``window_batch`` windows of input and output, whatever the length."""
        win, overlap, _ = self._window_plan(0)
        step, ratio = win - overlap, self.sample_rate / self.input_sample_rate
        fade, ref_len = int(round(overlap * ratio)), self.output_length(win)
        ramp = np.sin(0.5 * np.pi * (np.arange(fade) + 0.5) / fade).astype(np.float32) ** 2
        per_batch = max(1, self.cfg.window_batch)
        # a vocoder that starts from the input gets each window's stretch of it at 24 kHz
        uses_ref = self.vocoder.uses_reference
        to_out = StreamResampler(self.input_sample_rate, self.sample_rate) if uses_ref else None
        x, ref, it = _Tape(), _Tape(), iter(blocks)

        def pull() -> bool:
            block = next(it, None)
            if to_out is not None:
                ref.append(to_out(block, last=block is None))
            if block is None:
                return False
            x.append(np.asarray(block, dtype=np.float32))
            return True

        ended, group, acc, index = False, [], _Tape(), 0
        while True:
            s, o = index * step, int(round(index * step * ratio))
            while not ended and (x.end <= s + win or (uses_ref and ref.end < o + ref_len)):
                ended = not pull()
            n, last = x.end, x.end <= s + win  # the last window is the first to reach the end
            if last and n == 0:
                raise ValueError("cannot restore empty audio")
            group.append((s, x.read(s, s + win), ref.read(o, o + ref_len) if uses_ref else None))
            x.drop(s + step)
            ref.drop(int(round((s + step) * ratio)))
            if len(group) < per_batch and not last:
                index += 1
                continue
            first = index - len(group) + 1
            refs = [r for *_, r in group] if uses_ref else None
            segments = self._run_windows([w for _, w, _ in group], first, refs)
            for k, ((start, *_), seg) in enumerate(zip(group, segments)):
                seg = seg.copy()
                if first + k > 0:
                    seg[:fade] *= ramp
                if not (last and k == len(group) - 1):
                    seg[-fade:] *= ramp[::-1]
                acc.add(int(round(start * ratio)), seg)
            group = []
            if last:
                yield acc.take(self.output_length(n))
                return
            yield acc.take(int(round((s + step) * ratio)))  # where the next window starts
            index += 1

    def _run_windows(
        self, windows: list[np.ndarray], first: int, refs: list[np.ndarray] | None
    ) -> list[np.ndarray]:
        """:meth:`_run` of consecutive windows, the ``first``-th of the input onwards. A shorter
        last window (the end of the input) runs on its own at its own length rather than padded
        to a full window in the batch: a 21 s input costs 21 s of work, not 40. Its noise is
        drawn from its own index, as every window's start is."""
        if len(windows) < 2 or len(windows[-1]) == len(windows[0]):
            return self._run(windows, offset=first, references=refs)
        head = self._run(windows[:-1], offset=first, references=refs and refs[:-1])
        tail = self._run(windows[-1:], offset=first + len(windows) - 1,
                         references=refs and refs[-1:])  # fmt: skip
        return head + tail

    def prepare(self, wave: np.ndarray, sr: int) -> np.ndarray:
        """As :meth:`SpeechRestorer.prepare`; with ``input_band_rate`` set, input sampled higher
        passes through that rate first, so it looks like what the model trained on."""
        band = self.cfg.input_band_rate
        if band and sr > band:
            wave, sr = prepare_audio(wave, sr, band), band
        return super().prepare(wave, sr)

    def restore(self, wave: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
        """Restore one recording: ``(samples,)`` or ``(samples, channels)`` of any numeric dtype
        at any rate -> ``(float32 (out_samples,), 24000)``."""
        x = self.prepare(wave, sr)
        if len(x) <= self._window_plan(len(x))[0]:
            return self._run([x])[0], self.sample_rate
        return self._restore_long(x), self.sample_rate

    def restore_stream(self, blocks: Iterable[np.ndarray], sr: int) -> Iterator[np.ndarray]:
        """:meth:`restore` of one recording given as consecutive mono blocks at ``sr``,
        yielding the 24 kHz output in consecutive pieces as windows finish: the same samples
        :meth:`restore` gives for the whole, in the memory of a few windows whatever the
        length. The checks of :meth:`prepare`, block by block."""
        check_sample_rate(sr)
        x: Iterable[np.ndarray] = (mono_float32(b) for b in blocks if len(b))
        band = self.cfg.input_band_rate
        if band and sr > band:  # as prepare: through the band rate first
            x, sr = resample_blocks(x, sr, band), band
        yield from self._restore_windows(resample_blocks(x, sr, self.input_sample_rate))

    def restore_batch(
        self, waves: Sequence[np.ndarray], srs: int | Sequence[int], batch_size: int = 8
    ) -> list[np.ndarray]:
        """Restore many recordings; short ones are sorted by length and padded in batches of
        ``batch_size``, long ones are windowed. Results come back in the input order."""
        srs = [srs] * len(waves) if isinstance(srs, int) else list(srs)
        if len(srs) != len(waves):
            raise ValueError(f"{len(waves)} waves but {len(srs)} sample rates")
        prepared = [self.prepare(w, sr) for w, sr in zip(waves, srs)]
        results: list[np.ndarray | None] = [None] * len(prepared)
        short = []
        for i, x in enumerate(prepared):
            if len(x) > self._window_plan(len(x))[0]:
                results[i] = self._restore_long(x)
            else:
                short.append(i)
        short.sort(key=lambda i: len(prepared[i]))
        for b in range(0, len(short), batch_size):
            idx = short[b : b + batch_size]
            for i, y in zip(idx, self._run([prepared[i] for i in idx])):
                results[i] = y
        return [r for r in results if r is not None]

    # ------------------------------------------------------------------------ checkpoints
    def pretrained_config(self) -> dict[str, Any]:
        return {"model": self.cfg.to_dict()}

    @classmethod
    def from_pretrained_config(
        cls, config: dict[str, Any], features: FeatureExtractor | None = None
    ) -> Restorer:
        if "model" not in config:
            raise ValueError("restorer checkpoint config has no 'model' settings")
        return cls(config["model"], features=features)

    def pretrained_state(self) -> dict[str, torch.Tensor]:
        """Weights to save: everything but the feature extractor (log-mel has none; an SSL
        encoder is frozen and reloaded from its own hub id or path)."""
        return {
            k: v.detach().cpu().contiguous()
            for k, v in self.state_dict().items()
            if not k.startswith("features.")
        }


class _Tape:
    """A 1-D signal that grows at the end while its beginning is dropped: read and add by
    absolute sample index, so a stream is handled as if it were one array."""

    def __init__(self) -> None:
        self.data, self.start, self._parts = np.zeros(0, np.float32), 0, []

    @property
    def end(self) -> int:
        return self.start + len(self.data) + sum(len(p) for p in self._parts)

    def append(self, x: np.ndarray) -> None:
        if len(x):
            self._parts.append(x)

    def _whole(self) -> np.ndarray:
        if self._parts:
            parts = [self.data, *self._parts] if len(self.data) else self._parts
            self.data = parts[0] if len(parts) == 1 else np.concatenate(parts)
            self._parts = []
        return self.data

    def read(self, a: int, b: int) -> np.ndarray:
        return self._whole()[a - self.start : max(a, b) - self.start]

    def drop(self, a: int) -> None:
        """Forget the samples before index ``a``."""
        data, a = self._whole(), min(max(a, self.start), self.end)
        self.data, self.start = data[a - self.start :], a

    def add(self, a: int, x: np.ndarray) -> None:
        """Add ``x`` into the signal from index ``a`` on, growing it with zeros as needed."""
        data = self._whole()
        if a + len(x) > self.end:
            self.data = data = np.concatenate([data, np.zeros(a + len(x) - self.end, np.float32)])
        data[a - self.start : a - self.start + len(x)] += x

    def take(self, b: int) -> np.ndarray:
        """The samples before index ``b`` (zeros where none were added); then forgets them."""
        data = self._whole()
        out = np.zeros(b - self.start, np.float32)
        n = min(len(out), len(data))
        out[:n] = data[:n]
        self.drop(b)
        return out
