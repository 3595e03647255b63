"""Band extension: the band above a band-limited input's cutoff, predicted from the cleaned
log-mel below it and written after WaveFit.

A restorer fed 16 kHz speech (``input_band_rate``, as FLEURS is recorded) must write the band
from 8 to 12 kHz of its 24 kHz output from nothing. The cleaner predicts those mel bands too,
but learnt them from wide-band voices and 16 kHz recordings together and predicts them far too
weak (docs/engine.md: 34 dB short of the clean espeak-ng speech). Here a ridge map, fitted in
closed form on the cleaner's own output for degraded wide-band speech (:func:`fit_band`), reads
the ``sources`` highest mel bands below the cutoff over ``2 * context + 1`` frames, of the cleaned
log-mel and of the input's own (``read_input``: the input keeps the fricatives' sharp onsets that
the cleaner smooths; measured, it lowers the map's error by a tenth), and predicts every band
above it (the classic linear envelope extension, on cleaned features). After WaveFit
the STFT bins above the cutoff are scaled to the magnitude the extended mel implies, at mel
resolution as WaveFit's final mask but both ways (at most ``gain_max_db`` up); the bins below
the cutoff are left exactly as WaveFit wrote them, so what a 16 kHz listener, DNSMOS or an ASR
hears does not change.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from fleursr.nn import MelConfig, MelSpectrogram, mel_stft

if TYPE_CHECKING:
    from fleursr.restore.model import Restorer
    from fleursr.restore.wavefit import WaveFit

DEFAULTS: dict[str, Any] = {"sources": 40, "context": 2, "read_input": True, "hidden": 128,
                            "steps": 3000, "gain_max_db": 80.0, "ridge": 1.0}  # fmt: skip


class BandExtension(nn.Module):
    """The fitted map (``weight``, saved with the restorer) and its use after WaveFit.

    Args:
        mel: the log-mel WaveFit renders (the cleaner's output).
        cutoff_hz: half the input's band rate: mel bands with no filter weight above it are the
            sources; bands with most of their weight above it are predicted.
        sources: how many of the highest bands below the cutoff the map reads.
        context: frames on each side it reads too.
        read_input: read the same bands of the input's log-mel (the cleaner's input) too.
        hidden: GELU units of a one-layer network added to the ridge map (fitted on its
            residual, ``steps`` Adam steps of 4,096 frames); 0: the ridge map alone.
        gain_max_db: the most a bin above the cutoff is lifted.
        ridge: the fit's L2 penalty (on the normal equations' scale: frames).
    """

    def __init__(self, mel: MelConfig, cutoff_hz: float, sources: int = 40, context: int = 2,
                 read_input: bool = True, hidden: int = 0, steps: int = 3000,
                 gain_max_db: float = 80.0, ridge: float = 1.0) -> None:  # fmt: skip
        super().__init__()
        fb = MelSpectrogram(mel).fb  # (n_mels, bins)
        freqs = torch.linspace(0, mel.sample_rate / 2, fb.shape[1])
        above = fb[:, freqs > cutoff_hz].sum(1) / fb.sum(1).clamp_min(1e-12)
        below, targets = torch.nonzero(above == 0).flatten(), torch.nonzero(above > 0.5).flatten()
        if not 0 < cutoff_hz < mel.sample_rate / 2 or len(targets) == 0:
            raise ValueError(f"band extension: cutoff {cutoff_hz} Hz leaves no mel band above "
                             f"it at {mel.sample_rate} Hz")  # fmt: skip
        if not 0 < sources <= len(below) or context < 0:
            raise ValueError(
                f"band extension: sources must be 1..{len(below)} (the bands below "
                f"{cutoff_hz} Hz), context >= 0; got {sources}, {context}"
            )
        self.cutoff_hz, self.context, self.ridge = cutoff_hz, context, ridge
        self.read_input = read_input
        self.log_floor = math.log(mel.log_floor)
        self.gain_max = 10 ** (gain_max_db / 20)
        self.register_buffer("sources", below[-sources:], persistent=False)
        self.register_buffer("targets", targets, persistent=False)
        # the STFT bins it rewrites (from ``first`` up), the mel bands that reach them and the
        # lowest bin those bands read: all the rewrite needs, a fraction of the whole STFT
        self.first = int(torch.nonzero(freqs > cutoff_hz)[0])
        reach = torch.nonzero(fb[:, self.first :].sum(1) > 0).flatten()
        self.register_buffer("reach", reach, persistent=False)
        self.lowest = int(torch.nonzero(fb[reach].sum(0) > 0)[0])
        reads = sources * (2 * context + 1) * (2 if read_input else 1)
        weight = torch.zeros(reads + 1, len(targets))
        weight[-1] = self.log_floor  # unfitted: the band above stays empty
        self.register_buffer("weight", weight)  # saved: (inputs + bias, targets)
        self.hidden, self.steps = hidden, steps
        if hidden:  # saved too: input standardization, then the residual network
            self.register_buffer("shift", torch.zeros(reads))
            self.register_buffer("scale", torch.ones(reads))
            self.register_buffer("w1", torch.zeros(reads, hidden))
            self.register_buffer("b1", torch.zeros(hidden))
            self.register_buffer("w2", torch.zeros(hidden, len(targets)))

    def _frames(self, mel: torch.Tensor) -> torch.Tensor:
        """The source bands of ``mel`` ``(batch, frames, n_mels)`` at each of ``2 * context + 1``
        frames (edges repeated): ``(batch, frames, sources * (2 * context + 1))``."""
        x, c, frames = mel[..., self.sources], self.context, mel.shape[1]
        if c:
            x = F.pad(x.transpose(1, 2), (c, c), mode="replicate").transpose(1, 2)
            x = torch.cat([x[:, i : i + frames] for i in range(2 * c + 1)], dim=-1)
        return x

    def design(self, mel: torch.Tensor, heard: torch.Tensor | None = None) -> torch.Tensor:
        """The map's inputs ``(batch, frames, inputs)`` from the cleaned log-mel ``mel`` and the
        input's ``heard`` (both ``(batch, frames, n_mels)``; ``heard`` when ``read_input``): the
        source bands of each over the context, then 1."""
        parts = [self._frames(mel)]
        if self.read_input:
            if heard is None:
                raise ValueError("this band extension reads the input's log-mel: pass heard")
            parts.append(self._frames(heard[:, : mel.shape[1]].to(mel.dtype)))
        return torch.cat([*parts, torch.ones_like(mel[..., :1])], dim=-1)

    def extend(self, mel: torch.Tensor, heard: torch.Tensor | None = None) -> torch.Tensor:
        """``mel`` ``(batch, frames, n_mels)`` with the bands above the cutoff predicted."""
        out = mel.clone()
        out[..., self.targets] = self.predict(self.design(mel, heard))
        return out

    def predict(
        self, x: torch.Tensor, params: Sequence[torch.Tensor] | None = None
    ) -> torch.Tensor:
        """The bands above the cutoff from the map's inputs ``x`` (:meth:`design`): the ridge
        map, plus the residual network's output (``params``: its ``(w1, b1, w2)`` in place of
        the saved ones, for the fit)."""
        out = x @ self.weight.to(x.dtype)
        if self.hidden:
            w1, b1, w2 = params or (self.w1, self.b1, self.w2)
            z = (x[..., :-1] - self.shift.to(x.dtype)) / self.scale.to(x.dtype)
            out = out + F.gelu(z @ w1.to(x.dtype) + b1.to(x.dtype)) @ w2.to(x.dtype)
        return out

    def forward(
        self,
        wavefit: WaveFit,
        cleaned: torch.Tensor,
        wave: torch.Tensor,
        mask: torch.Tensor | None,
        heard: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``wave`` ``(batch, samples)`` from ``wavefit`` with its STFT bins above the cutoff
        scaled to the extended ``cleaned`` mel's magnitude (at mel resolution; ``heard``: the
        input's log-mel); the bins below are not touched. Zero past each ``mask``."""
        from fleursr.restore.wavefit_stft import _frame_mask

        m = wavefit.config.mel
        assert m is not None
        stft = mel_stft(m, wave.device)
        with torch.autocast(wave.device.type, enabled=False):
            spec = torch.stft(wave.float(), **stft, pad_mode="constant", return_complex=True)
            mel = self.extend(cleaned.float(), heard)[..., self.reach].exp().transpose(1, 2)
            mel = torch.cat([mel, mel[:, :, -1:]], dim=2)[:, :, : spec.shape[2]]
            keep = _frame_mask(mask, cleaned.shape[1])
            mel = mel if keep is None else mel * keep[:, :, : mel.shape[2]]
            # both at mel resolution, spread over the linear bins by triangle interpolation (no
            # pseudo-inverse: it rings where a band is near silent and would lift that ringing)
            spread = wavefit.mel_to_linear[self.first :, self.reach]
            bands = wavefit.mel.fb[self.reach, self.lowest :] @ spec[:, self.lowest :].abs()
            gain = (spread @ mel / (spread @ bands).clamp_min(1e-8)).clamp(max=self.gain_max)
            spec = torch.cat([spec[:, : self.first], spec[:, self.first :] * gain], dim=1)
            out = torch.istft(spec, **stft, length=wave.shape[1])
            return out * wavefit.sample_mask(mask, out)

    @torch.no_grad()
    def fit(self, triples: Iterable[tuple[torch.Tensor, ...]]) -> dict[str, float]:
        """Ridge fit of ``weight`` from ``(cleaned, heard, clean)`` log-mels ``(frames, n_mels)``
        (the cleaner's output for a degraded input, that input's, the clean speech's), over
        the frames where the clean speech is 20 dB or more above the log floor in total.
        Returns the frames used and the fitted map's RMS error (log-mel, the bands above)."""
        n = self.weight.shape[0]
        gram, cross = torch.zeros(n, n, dtype=torch.float64), torch.zeros(n, len(self.targets))
        cross, sq, frames, kept = cross.double(), 0.0, 0, []
        for cleaned, heard, clean in triples:
            k = min(len(cleaned), len(clean))
            x = self.design(cleaned[None, :k].float(), heard[None, :k].float())[0].double()
            y = clean[:k, self.targets].double()
            power = clean[:k].double().mul(2).exp().sum(-1)
            keep = power > 100 * clean.shape[-1] * math.exp(2 * self.log_floor)
            x, y = x[keep], y[keep]
            if self.hidden:
                kept.append((x.float(), y.float()))
            gram += x.T @ x
            cross += x.T @ y
            sq, frames = sq + float((y**2).sum()), frames + int(keep.sum())
        if frames == 0:
            raise ValueError("band extension: no speech frames to fit on")
        w = torch.linalg.solve(gram + self.ridge * torch.eye(n, dtype=gram.dtype), cross)
        err = sq - 2 * float((w * cross).sum()) + float((w * (gram @ w)).sum())
        self.weight.copy_(w.to(self.weight.dtype))
        rmse = math.sqrt(max(err, 0.0) / (frames * len(self.targets)))
        if self.hidden:
            rmse = self._fit_network(
                torch.cat([x for x, _ in kept]), torch.cat([y for _, y in kept])
            )
        return {"frames": frames, "rmse": rmse}

    def _fit_network(self, x: torch.Tensor, y: torch.Tensor, batch: int = 4096) -> float:
        """Adam on the ridge map's residual, ``steps`` batches of ``batch`` frames (seeded);
        returns the RMS error of the map with the network, over all ``x``."""
        gen = torch.Generator().manual_seed(0)
        self.shift.copy_(x[:, :-1].mean(0))
        self.scale.copy_(x[:, :-1].std(0) + 1e-3)
        n_in = x.shape[1] - 1
        w1 = torch.randn(n_in, self.hidden, generator=gen) / math.sqrt(n_in)
        w2 = torch.randn(self.hidden, y.shape[1], generator=gen) / math.sqrt(self.hidden)
        params = [w1, torch.zeros(self.hidden), w2]
        for p in params:
            p.requires_grad_(True)
        opt = torch.optim.Adam(params, lr=2e-3)
        with torch.enable_grad():
            for _ in range(self.steps):
                idx = torch.randint(0, len(x), (batch,), generator=gen)
                loss = (self.predict(x[idx], params) - y[idx]).pow(2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
        for saved, p in zip((self.w1, self.b1, self.w2), params):
            saved.copy_(p.detach())
        err = sum(float((self.predict(x[i : i + 65536]) - y[i : i + 65536]).pow(2).sum())
                  for i in range(0, len(x), 65536))  # fmt: skip
        return math.sqrt(err / y.numel())


def build_band(settings: dict[str, Any] | None, input_band_rate: int | None,
               wavefit: WaveFit) -> BandExtension | None:  # fmt: skip
    """The restorer's band extension from its config (``None``: none)."""
    if settings is None:
        return None
    unknown = set(settings) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"band_extension: unknown settings {sorted(unknown)}; "
                         f"expected some of {sorted(DEFAULTS)}")  # fmt: skip
    if not input_band_rate or wavefit.mel_config is None:
        raise ValueError(
            "band_extension needs input_band_rate (the band to extend from) and "
            "log-mel features at the output rate (the envelope it extends)"
        )
    # a config that does not spell read_input or hidden out predates them: the cleaned mel
    # alone, the ridge map alone
    settings = {**DEFAULTS, "read_input": False, "hidden": 0, **settings}
    return BandExtension(wavefit.mel_config, input_band_rate / 2, **settings)


def band_triples(restorer: Restorer, corpora: Sequence[str | os.PathLike], epochs: int = 2,
               seed: int = 0) -> Iterable[tuple[torch.Tensor, ...]]:  # fmt: skip
    """``(cleaned, heard, clean)`` log-mels of every train utterance of ``corpora`` sampled
    above twice the cutoff, whole, degraded by the default chain and passed through the input
    band rate, ``epochs`` times (a new degradation each time)."""
    from fleursr.restore.data import DegradedPairs

    band, rate = restorer.band, restorer.cfg.input_band_rate
    assert band is not None and rate
    for corpus in corpora:
        pairs = DegradedPairs(corpus, restorer.input_sample_rate, segment_seconds=3600.0,
                              seed=seed, cache=False, degraded_rate=rate)  # fmt: skip
        wide = [i for i, u in enumerate(pairs.utts) if u.sampling_rate / 2 > band.cutoff_hz]
        if not wide:
            raise ValueError(f"{corpus}: no train utterance sampled above {rate} Hz to fit on")
        for epoch in range(epochs):
            pairs.set_epoch(epoch)
            for i in wide:
                item = pairs[i]
                x = torch.from_numpy(item["degraded"])[None]
                feats, frames = restorer.features(x, torch.tensor([x.shape[1]]))
                heard = feats[0, : int(frames[0])].float()
                cleaned = restorer.cleaner(feats, None)[0, : int(frames[0])].float()
                clean = restorer.vocoder.mel(torch.from_numpy(item["clean_out"])[None])[0]
                yield cleaned, heard, clean.T.float()


@torch.no_grad()
def fit_band(restorer: Restorer, corpora: Sequence[str | os.PathLike],
             settings: dict[str, Any] | None = None, epochs: int = 2, seed: int = 0,
             progress: Callable[[int], object] | None = None) -> dict[str, float]:  # fmt: skip
    """Give ``restorer`` a band extension (``settings``: :data:`DEFAULTS` overrides) fitted on
    ``corpora`` (clean speech sampled above its input band rate); its config records it, so
    ``save_pretrained`` writes it. ``progress`` is called with each utterance done."""
    restorer.cfg.band_extension = {**DEFAULTS, **(settings or {})}
    restorer.band = build_band(restorer.cfg.band_extension, restorer.cfg.input_band_rate,
                               restorer.vocoder)  # fmt: skip
    restorer.eval()

    def counted() -> Iterable[tuple[torch.Tensor, ...]]:
        for done, pair in enumerate(band_triples(restorer, corpora, epochs, seed), 1):
            yield pair
            if progress:
                progress(done)

    assert restorer.band is not None
    return restorer.band.fit(counted())
