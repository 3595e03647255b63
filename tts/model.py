"""The acoustic model: graphemes + language + speaker -> the vocoder's log-mel, non-autoregressive.

Glow-TTS / Grad-TTS structure with a regression decoder:

1. token embeddings plus a language embedding, through the project's Conformer stack
   (``fleursr.nn.ConformerStack``) -> hidden ``h`` ``(batch, tokens, dim)``;
2. a linear map of ``h`` to a per-token mel mean ``mu`` ``(batch, tokens, n_mels)`` (in
   normalized mel units). Training aligns frames to tokens with monotonic alignment search
   (``fleursr.tts.mas``) under a unit-variance Gaussian on ``mu`` and pulls ``mu`` to the aligned
   frames (the prior loss);
3. a duration predictor on ``h`` (gradient stopped) plus the speaker embedding predicts
   ``log(1 + frames)`` per token, fitted to the searched durations;
4. the length regulator repeats ``h`` and ``mu`` by the durations (searched in training,
   predicted in synthesis);
   plus the same for each utterance's whole length (the sum over its tokens), so speech is
   neither rushed nor drawn out;
5. a Conformer decoder over frames, with the speaker embedding added, predicts a correction
   to the repeated ``mu``: the output is the normalized log-mel ``(batch, frames, n_mels)``,
   trained with L1.

Mel statistics (per-band mean and standard deviation of the training corpus) are buffers saved
with the weights, so the model takes and gives the vocoder's un-normalized log-mel.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from fleursr.nn import ConformerStack, lengths_to_mask
from fleursr.tts.config import TTSConfig
from fleursr.tts.mas import maximum_path


class DurationPredictor(nn.Module):
    """``(batch, tokens, dim)`` -> ``log(1 + frames)`` per token ``(batch, tokens)``."""

    def __init__(self, dim: int, channels: int, kernel: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv1d(dim if i == 0 else channels, channels, kernel, padding=kernel // 2)
            for i in range(layers)
        )
        self.norms = nn.ModuleList(nn.LayerNorm(channels) for _ in range(layers))
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(channels, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        keep = mask[..., None].to(x.dtype)
        for conv, norm in zip(self.convs, self.norms):
            x = conv((x * keep).transpose(1, 2)).transpose(1, 2)
            x = self.dropout(F.relu(norm(x)))
        return self.out(x).squeeze(-1) * keep[..., 0]


def durations_to_path(durations: torch.Tensor, max_frames: int | None = None) -> torch.Tensor:
    """Integer durations ``(batch, tokens)`` -> 0/1 alignment ``(batch, tokens, frames)``."""
    ends = durations.long().cumsum(dim=1)
    starts = ends - durations.long()
    frames = int(max_frames if max_frames is not None else max(1, int(ends[:, -1].max())))
    t = torch.arange(frames, device=durations.device)[None, None, :]
    return ((t >= starts[..., None]) & (t < ends[..., None])).float()


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``x`` ``(batch, length, ...)`` over positions where ``mask`` ``(batch, length)``."""
    m = mask.to(x.dtype).reshape(*mask.shape, *([1] * (x.dim() - mask.dim())))
    return (x * m).sum() / (m.sum() * (x[0, 0].numel() if x.dim() > 2 else 1)).clamp_min(1)


def total_duration_loss(
    log_dur: torch.Tensor, durations: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Squared log error of each utterance's length in frames: the sum of the per-token
    predictions ``expm1(log_dur)`` against the searched total. The per-token loss alone fits
    ``log(1 + frames)``, whose mean under-states the mean of the frames (a pause or a held
    vowel pulls the linear sum more than the log), so utterances came out 20-35 % short."""
    frames = (torch.expm1(log_dur.float().clamp(max=12.0)).clamp_min(0) * mask).sum(dim=1)
    return ((torch.log1p(frames) - torch.log1p(durations.float().sum(dim=1))) ** 2).mean()


class TTSModel(nn.Module):
    """Non-autoregressive multilingual, multi-speaker acoustic model (see the module docstring).

    Language and speaker index 0 is "unknown"; known ones are 1..num_languages / num_speakers.
    """

    def __init__(
        self, config: TTSConfig, vocab_size: int, num_languages: int, num_speakers: int
    ) -> None:
        super().__init__()
        c = self.config = config
        n_mels = c.mel_config().n_mels
        stack = dict(heads=c.heads, ff_mult=c.ff_mult, kernel_size=c.kernel_size,
                     dropout=c.dropout)  # fmt: skip
        self.token_emb = nn.Embedding(vocab_size, c.dim, padding_idx=0)
        self.lang_emb = nn.Embedding(num_languages + 1, c.dim)
        self.spk_emb = nn.Embedding(num_speakers + 1, c.dim)
        self.encoder = ConformerStack(c.dim, c.encoder_depth, **stack)
        self.to_mu = nn.Linear(c.dim, n_mels)
        self.duration = DurationPredictor(
            c.dim, c.duration_channels, c.duration_kernel, c.duration_layers, c.dropout
        )
        self.mu_in = nn.Linear(n_mels, c.dim)
        self.decoder = ConformerStack(c.dim, c.decoder_depth, **stack)
        self.to_mel = nn.Linear(c.dim, n_mels)
        self.register_buffer("mel_mean", torch.zeros(n_mels))
        self.register_buffer("mel_std", torch.ones(n_mels))

    def normalize(self, mel: torch.Tensor) -> torch.Tensor:
        return (mel - self.mel_mean) / self.mel_std

    def denormalize(self, mel: torch.Tensor) -> torch.Tensor:
        return mel * self.mel_std + self.mel_mean

    def encode(
        self, tokens: torch.Tensor, token_lengths: torch.Tensor, languages: torch.Tensor,
        speakers: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
        """Tokens ``(batch, tokens)`` -> ``h`` ``(batch, tokens, dim)``, ``mu`` ``(batch, tokens,
        n_mels)``, predicted ``log(1 + frames)`` ``(batch, tokens)`` and the token mask."""
        mask = lengths_to_mask(token_lengths, tokens.shape[1])
        x = self.token_emb(tokens) * math.sqrt(self.config.dim) + self.lang_emb(languages)[:, None]
        h = self.encoder(x, mask)
        mu = self.to_mu(h) * mask[..., None]
        log_dur = self.duration(h.detach() + self.spk_emb(speakers)[:, None], mask)
        return h, mu, log_dur, mask

    def decode(
        self, h: torch.Tensor, mu: torch.Tensor, path: torch.Tensor, speakers: torch.Tensor,
        frame_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        """Length-regulate by ``path`` ``(batch, tokens, frames)`` and decode: the normalized
        log-mel ``(batch, frames, n_mels)`` and the repeated ``mu`` (same shape)."""
        align = path.transpose(1, 2)
        mu_frames = torch.bmm(align, mu)
        x = torch.bmm(align, h) + self.mu_in(mu_frames) + self.spk_emb(speakers)[:, None]
        y = self.decoder(x, frame_mask)
        return (mu_frames + self.to_mel(y)) * frame_mask[..., None], mu_frames

    def forward(
        self, tokens: torch.Tensor, token_lengths: torch.Tensor, mels: torch.Tensor,
        mel_lengths: torch.Tensor, languages: torch.Tensor, speakers: torch.Tensor,
    ) -> dict[str, torch.Tensor]:  # fmt: skip
        """Training pass on log-mels ``(batch, frames, n_mels)``: the losses (``loss`` is their
        sum), the prediction ``mel`` (normalized) and the searched ``durations``."""
        frame_mask = lengths_to_mask(mel_lengths, mels.shape[1])
        target = self.normalize(mels) * frame_mask[..., None]
        h, mu, log_dur, mask = self.encode(tokens, token_lengths, languages, speakers)
        with torch.no_grad():  # log N(frame; mu, I) up to a constant, (batch, tokens, frames)
            mu32, tgt32 = mu.float(), target.float()
            logp = (
                torch.bmm(mu32, tgt32.transpose(1, 2))
                - 0.5 * (mu32**2).sum(-1)[:, :, None]
                - 0.5 * (tgt32**2).sum(-1)[:, None, :]
            )
            path = maximum_path(logp, token_lengths, mel_lengths)
        durations = path.sum(-1)
        pred, mu_frames = self.decode(h, mu, path.to(h.dtype), speakers, frame_mask)
        losses = {
            "mel": masked_mean((pred.float() - target).abs(), frame_mask),
            "prior": 0.5 * masked_mean((mu_frames.float() - target) ** 2, frame_mask),
            "duration": masked_mean((log_dur.float() - torch.log1p(durations)) ** 2, mask),
            "total": total_duration_loss(log_dur, durations, mask),
        }
        losses["loss"] = losses["mel"] + losses["prior"] + losses["duration"] + losses["total"]
        return {**losses, "mel_pred": pred, "durations": durations}

    def predict_durations(
        self, log_dur: torch.Tensor, mask: torch.Tensor, length_scale: float | torch.Tensor = 1.0
    ) -> torch.Tensor:
        """Predicted ``log(1 + frames)`` -> whole frames ``(batch, tokens)``, at least 1 per
        valid token, scaled by ``length_scale`` (> 1 speaks slower; a number, or one per row)."""
        if isinstance(length_scale, torch.Tensor):
            length_scale = length_scale.to(log_dur.device, torch.float32).reshape(-1, 1)
        frames = torch.round(torch.expm1(log_dur.float()).clamp_min(0) * length_scale)
        return frames.clamp_min(1).long() * mask.long()

    @torch.no_grad()
    def synthesize(
        self, tokens: torch.Tensor, token_lengths: torch.Tensor, languages: torch.Tensor,
        speakers: torch.Tensor, length_scale: float | torch.Tensor = 1.0,
    ) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        """Tokens ``(batch, tokens)`` -> log-mel ``(batch, frames, n_mels)`` (the vocoder's
        units, zero past each row's length) and frame lengths ``(batch,)``."""
        h, mu, log_dur, mask = self.encode(tokens, token_lengths, languages, speakers)
        durations = self.predict_durations(log_dur, mask, length_scale)
        frame_lengths = durations.sum(dim=1)
        path = durations_to_path(durations).to(h.dtype)
        frame_mask = lengths_to_mask(frame_lengths, path.shape[2])
        pred, _ = self.decode(h, mu, path, speakers, frame_mask)
        return self.denormalize(pred.float()) * frame_mask[..., None], frame_lengths
