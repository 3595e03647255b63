"""Frozen self-supervised speech encoders as a feature extractor.

``SSLFeatures`` runs the first ``layer`` blocks of any Hugging Face transformers speech
encoder: w2v-BERT 2.0 (the default, layer 8, as Miipher and Sidon use it), the wav2vec 2.0
family (XLS-R, MMS), HuBERT, WavLM, data2vec-audio, UniSpeech(-SAT) and wav2vec2-conformer.

Truncation. The encoder's layer list is cut to ``layer`` blocks and everything that would run
after the last kept block is removed: the final ``encoder.layer_norm`` of the "stable layer
norm" (pre-LN) encoders and of wav2vec2-conformer, the optional ``adapter`` (all families) and
w2v-BERT's ``intermediate_ffn``. The output is then exactly the output of block ``layer``,
i.e. ``hidden_states[layer]`` of the full model called with ``output_hidden_states=True`` in
transformers 5 (``hidden_states[0]`` is the input of the first block; no final norm is folded
into the last entry). The post-LN encoders apply their ``layer_norm`` *before* the blocks, so it
stays.

Padding. Batches are padded and the model gets an ``attention_mask``; the valid frames of a
padded row then equal those of the row run alone, up to float rounding (~1e-6 measured), for
w2v-BERT (its conformer convolutions zero padded frames) and for wav2vec2 / HuBERT / WavLM /
UniSpeech(-SAT) encoders whose convolutional front end uses layer norm
(``feat_extract_norm="layer"``: XLS-R, MMS, the "large" models). Three kinds are NOT
padding-invariant, measured on random tiny models: the group-norm front end
(``feat_extract_norm="group"``: wav2vec2-base, hubert-base, wavlm-base(-plus)) normalizes each
channel over all time steps, padding included; data2vec-audio's stacked positional
convolutions and wav2vec2-conformer's depthwise convolutions carry padded frames into the last
valid ones, and attention spreads that to the whole row. For those models rows of different
lengths are run one at a time, unpadded: slower, but a row's features never depend on its
batch (``SSLFeatures.padding_invariant`` tells which path a model takes).
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import nn

from fleursr.nn.conformer import lengths_to_mask
from fleursr.restore.base import FeatureExtractor, check_batch

log = logging.getLogger(__name__)

DEFAULT_SSL_MODEL = "facebook/w2v-bert-2.0"
DEFAULT_SSL_LAYER = 8

# Encoders fed raw 16 kHz samples through a strided convolution stack (``input_values``).
WAVEFORM_ENCODERS = (
    "wav2vec2",
    "hubert",
    "wavlm",
    "data2vec-audio",
    "unispeech",
    "unispeech-sat",
    "wav2vec2-conformer",
)
# Encoders fed Kaldi-style log-mel filterbanks stacked two frames at a time (``input_features``).
FBANK_ENCODERS = ("wav2vec2-bert",)
SUPPORTED_MODEL_TYPES = WAVEFORM_ENCODERS + FBANK_ENCODERS
# Encoders whose padded frames leak into valid ones even with an attention mask.
PADDING_LEAKS = ("data2vec-audio", "wav2vec2-conformer")

# The Kaldi-compatible filterbank of ``SeamlessM4TFeatureExtractor._extract_fbank_features``:
# 25 ms frames every 10 ms at 16 kHz, 512-point FFT, pre-emphasis 0.97, DC offset removed per
# frame, power spectrum, natural log with a float32-epsilon floor, on 16-bit-scaled samples.
FBANK_FRAME = 400
FBANK_HOP = 160
FBANK_NFFT = 512
FBANK_PREEMPHASIS = 0.97
FBANK_MEL_FLOOR = 1.192092955078125e-07
FBANK_SCALE = 2.0**15
NORM_EPS = 1e-7


def _resolve_dtype(dtype: torch.dtype | str | None) -> torch.dtype | None:
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    resolved = getattr(torch, str(dtype).replace("torch.", ""), None)
    if not isinstance(resolved, torch.dtype):
        raise ValueError(f"unknown dtype {dtype!r}")
    return resolved


def _check_model_type(model_type: str, name: str) -> None:
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ValueError(
            f"{name} is a {model_type!r} model, not a supported speech encoder; SSLFeatures "
            f"supports model types {', '.join(SUPPORTED_MODEL_TYPES)}"
        )


def _check_layer(layer: int, num_layers: int, name: str) -> None:
    if isinstance(layer, bool) or not isinstance(layer, int) or not 1 <= layer <= num_layers:
        raise ValueError(
            f"layer {layer!r} is out of range for {name}, which has {num_layers} layers: "
            f"choose 1..{num_layers} (layer k is the output of the k-th block, "
            f"hidden_states[k])"
        )


def _check_sample_rate(sample_rate: int, expected: int, name: str) -> None:
    if int(sample_rate) != int(expected):
        raise ValueError(
            f"{name} expects {int(expected)} Hz audio, but sample_rate={sample_rate} was "
            f"given: resample the input to {int(expected)} Hz"
        )


class SSLFeatures(FeatureExtractor):
    """Frozen hidden states of layer ``layer`` of a transformers speech encoder.

    ``SSLFeatures("facebook/w2v-bert-2.0", layer=8)`` loads by hub id or local directory with
    ``AutoModel`` / ``AutoFeatureExtractor`` and keeps only the first ``layer`` blocks. Input
    is ``sample_rate`` audio (16 kHz for every supported encoder; resample first). Output is
    ``(batch, frames, hidden_size)`` float32 at 50 Hz (``hop_length`` 320 input samples), frames
    past a row's length zeroed. The model is frozen and always in eval mode; on CUDA it runs
    under bf16 autocast. Preprocessing (per-utterance normalization, w2v-BERT's filterbank)
    runs in torch on the model's device and matches the model's transformers feature
    extractor; see the module docstring for padding behaviour.
    """

    def __init__(
        self,
        model_id_or_path: str = DEFAULT_SSL_MODEL,
        layer: int = DEFAULT_SSL_LAYER,
        sample_rate: int = 16000,
        dtype: torch.dtype | str | None = None,
    ) -> None:
        from transformers import AutoConfig, AutoFeatureExtractor, AutoModel

        super().__init__()
        name = str(model_id_or_path)
        # Check the config first: a wrong model type or layer fails before any weights load.
        hf_config = AutoConfig.from_pretrained(name)
        _check_model_type(hf_config.model_type, name)
        _check_layer(layer, hf_config.num_hidden_layers, name)
        try:
            feature_extractor = AutoFeatureExtractor.from_pretrained(name)
        except (OSError, ValueError) as err:
            if hf_config.model_type in FBANK_ENCODERS:
                raise
            from transformers import Wav2Vec2FeatureExtractor

            log.warning(
                "%s has no feature extractor config (%s); using wav2vec2 defaults", name, err
            )
            feature_extractor = Wav2Vec2FeatureExtractor(
                do_normalize=True,
                return_attention_mask=getattr(hf_config, "feat_extract_norm", "layer") == "layer",
            )
        _check_sample_rate(sample_rate, feature_extractor.sampling_rate, name)
        kwargs = {} if dtype is None else {"dtype": _resolve_dtype(dtype)}
        model = AutoModel.from_pretrained(name, config=hf_config, **kwargs)
        self._setup(model, feature_extractor, layer, name, sample_rate)

    @classmethod
    def from_model(
        cls,
        model: nn.Module,
        feature_extractor: Any,
        layer: int = DEFAULT_SSL_LAYER,
        model_id: str = "custom",
        sample_rate: int | None = None,
    ) -> SSLFeatures:
        """Wrap an in-memory transformers model (truncated in place) and its feature extractor.

        ``model_id`` is what ``config()`` records as ``model``; ``sample_rate`` defaults to the
        feature extractor's.
        """
        self = cls.__new__(cls)
        nn.Module.__init__(self)
        rate = feature_extractor.sampling_rate if sample_rate is None else sample_rate
        self._setup(model, feature_extractor, layer, model_id, rate)
        return self

    def _setup(
        self, model: nn.Module, feature_extractor: Any, layer: int, model_id: str, sample_rate: int
    ) -> None:
        model = getattr(model, "base_model", model)  # a ForCTC/ForPreTraining wrapper -> encoder
        hf_config = model.config
        model_type = hf_config.model_type
        _check_model_type(model_type, model_id)
        encoder = getattr(model, "encoder", None)
        if not isinstance(getattr(encoder, "layers", None), nn.ModuleList):
            raise ValueError(
                f"{model_id}: {type(model).__name__} has no encoder.layers to truncate"
            )
        num_layers = len(encoder.layers)
        _check_layer(layer, num_layers, model_id)
        expected = int(feature_extractor.sampling_rate)
        _check_sample_rate(sample_rate, expected, model_id)

        # Keep blocks 1..layer and drop everything applied after the last block.
        encoder.layers = encoder.layers[:layer]
        if "StableLayerNorm" in type(encoder).__name__ or model_type == "wav2vec2-conformer":
            encoder.layer_norm = nn.Identity()
        if getattr(model, "adapter", None) is not None:
            model.adapter = None
        if getattr(model, "intermediate_ffn", None) is not None:
            model.intermediate_ffn = None
        hf_config.num_hidden_layers = layer

        model.requires_grad_(False)
        model.eval()
        self.model = model
        self.model_id = model_id
        self.layer = layer
        self.total_layers = num_layers
        self.model_type = model_type
        self.sample_rate = expected
        self.dim = int(hf_config.hidden_size)
        self.fbank = model_type in FBANK_ENCODERS

        self.padding_invariant = True
        if self.fbank:
            for attr in ("mel_filters", "window", "stride"):
                if not hasattr(feature_extractor, attr):
                    raise ValueError(
                        f"{model_id}: w2v-BERT needs a SeamlessM4TFeatureExtractor, got "
                        f"{type(feature_extractor).__name__}"
                    )
            self.stride = int(feature_extractor.stride)
            self.hop_length = FBANK_HOP * self.stride
            self.padding_value = float(getattr(feature_extractor, "padding_value", 0.0))
            filters = torch.as_tensor(feature_extractor.mel_filters, dtype=torch.float64)
            window = torch.as_tensor(feature_extractor.window, dtype=torch.float64)
            self.register_buffer("mel_filters", filters, persistent=False)
            self.register_buffer("window", window, persistent=False)
            # One output frame needs ``stride`` filterbank frames; per-bin variance needs two.
            self.min_samples = FBANK_FRAME + FBANK_HOP * (max(self.stride, 2) - 1)
        else:
            self.conv_layers = list(zip(hf_config.conv_kernel, hf_config.conv_stride))
            self.hop_length = 1
            for _, s in self.conv_layers:
                self.hop_length *= int(s)
            self.do_normalize = bool(getattr(feature_extractor, "do_normalize", True))
            front_end = getattr(model, "feature_extractor", model)
            group_norm = any(isinstance(m, nn.GroupNorm) for m in front_end.modules())
            self.padding_invariant = not group_norm and model_type not in PADDING_LEAKS
            self.min_samples = 1
            for k, s in reversed(self.conv_layers):  # receptive field of one output frame
                self.min_samples = (self.min_samples - 1) * int(s) + int(k)

    # -- frames ---------------------------------------------------------------------------

    def num_frames(self, num_samples: int) -> int:
        return int(self._frames(torch.tensor([int(num_samples)]))[0])

    def _frames(self, lengths: torch.Tensor) -> torch.Tensor:
        """Valid output frames for ``lengths`` input samples (tensor in, tensor out)."""
        if self.fbank:
            fbank_frames = torch.div(lengths - FBANK_FRAME, FBANK_HOP, rounding_mode="floor") + 1
            return torch.div(fbank_frames.clamp_min(0), self.stride, rounding_mode="floor")
        out = lengths
        for k, s in self.conv_layers:
            out = torch.div(out - k, s, rounding_mode="floor") + 1
        return out.clamp_min(0)

    # -- preprocessing (what the transformers feature extractor does, in torch) -----------

    def model_inputs(
        self, waves: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """``(inputs, attention_mask or None, frame_lengths)`` for a padded batch.

        ``inputs`` are ``input_features (batch, frames, 80 * stride)`` for w2v-BERT and
        ``input_values (batch, samples)`` otherwise; the mask is None when no row is padded.
        """
        waves, lengths = check_batch(waves, lengths)
        frame_lengths = self._frames(lengths)
        if self.fbank:
            inputs = self._fbank(waves, lengths, frame_lengths)
            mask = lengths_to_mask(frame_lengths, inputs.shape[1])
        else:
            inputs = self._normalize(waves.float(), lengths)
            mask = lengths_to_mask(lengths, waves.shape[1])
        if bool(mask.all()):
            return inputs, None, frame_lengths
        return inputs, mask.long(), frame_lengths

    def _normalize(self, waves: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Wav2Vec2FeatureExtractor: zero mean, unit variance over each row's valid samples."""
        mask = lengths_to_mask(lengths, waves.shape[1]).to(waves.dtype)
        if not self.do_normalize:
            return waves * mask
        count = lengths.clamp_min(1).to(waves.dtype)[:, None]
        mean = (waves * mask).sum(1, keepdim=True) / count
        var = (((waves - mean) * mask) ** 2).sum(1, keepdim=True) / count
        return (waves - mean) / torch.sqrt(var + NORM_EPS) * mask

    def _fbank(
        self, waves: torch.Tensor, lengths: torch.Tensor, frame_lengths: torch.Tensor
    ) -> torch.Tensor:
        """SeamlessM4TFeatureExtractor: Kaldi fbank, per-bin normalization, 2-frame stacking.

        Computed in float64 (float32 on MPS), as the reference does, so that bands with
        little energy (band-limited input) keep their log values.
        """
        work = torch.float32 if waves.device.type == "mps" else torch.float64
        batch = waves.shape[0]
        total = max(0, (waves.shape[1] - FBANK_FRAME) // FBANK_HOP + 1)
        frames_out = int(frame_lengths.max()) if batch else 0
        if total == 0 or frames_out == 0:
            return waves.new_zeros(batch, frames_out, self.mel_filters.shape[1] * self.stride)
        x = waves.to(work) * FBANK_SCALE
        frames = x.unfold(1, FBANK_FRAME, FBANK_HOP)  # (batch, total, 400), windows in the row
        frames = frames - frames.mean(-1, keepdim=True)
        frames = torch.cat(
            [
                frames[..., :1] * (1.0 - FBANK_PREEMPHASIS),
                frames[..., 1:] - FBANK_PREEMPHASIS * frames[..., :-1],
            ],
            dim=-1,
        )
        frames = frames * self.window.to(work)
        power = torch.fft.rfft(frames, n=FBANK_NFFT).abs() ** 2  # (batch, total, 257)
        logmel = torch.log((power @ self.mel_filters.to(work)).clamp_min(FBANK_MEL_FLOOR))

        # Per-bin normalization over each row's own frames (unbiased variance, as reference).
        n_fb = torch.div(lengths - FBANK_FRAME, FBANK_HOP, rounding_mode="floor") + 1
        valid = lengths_to_mask(n_fb.clamp_min(0), total).to(work)[..., None]
        count = n_fb.clamp_min(1).to(work)[:, None, None]
        mean = (logmel * valid).sum(1, keepdim=True) / count
        var = (((logmel - mean) * valid) ** 2).sum(1, keepdim=True) / (count - 1).clamp_min(1)
        feats = (logmel - mean) / torch.sqrt(var + NORM_EPS)

        # Keep whole stacks of ``stride`` frames; everything past a row's stacks is padding.
        feats = feats[:, : frames_out * self.stride]
        keep = lengths_to_mask(frame_lengths * self.stride, feats.shape[1])[..., None]
        feats = torch.where(keep, feats, torch.full_like(feats, self.padding_value))
        feats = feats.reshape(batch, frames_out, -1)
        return feats.to(torch.float32)

    # -- forward --------------------------------------------------------------------------

    def forward(
        self, waves: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        waves, lengths = check_batch(waves, lengths)
        if waves.shape[0] and int(lengths.min()) < self.min_samples:
            raise ValueError(
                f"{self.model_id} needs at least {self.min_samples} samples "
                f"({1000 * self.min_samples / self.sample_rate:.0f} ms at {self.sample_rate} Hz) "
                f"per row; got lengths {lengths.tolist()}"
            )
        track_grad = torch.is_grad_enabled() and any(p.requires_grad for p in self.parameters())
        with torch.set_grad_enabled(track_grad):
            if not self.padding_invariant and bool((lengths != lengths[0]).any()):
                feats, frame_lengths = self._forward_rows(waves, lengths)
            else:
                inputs, mask, frame_lengths = self.model_inputs(waves, lengths)
                feats = self._encode(inputs, mask)
        mask = lengths_to_mask(frame_lengths, feats.shape[1])
        return feats * mask[..., None].to(feats.dtype), frame_lengths

    def _forward_rows(
        self, waves: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoders that are not padding-invariant: one unpadded row at a time."""
        frame_lengths = self._frames(lengths)
        out = waves.new_zeros(
            waves.shape[0], int(frame_lengths.max()), self.dim, dtype=torch.float32
        )
        for i, n in enumerate(lengths.tolist()):
            inputs, _, frames = self.model_inputs(waves[i : i + 1, :n])
            out[i, : int(frames[0])] = self._encode(inputs, None)[0]
        return out, frame_lengths

    def _encode(self, inputs: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        param = next(self.model.parameters())
        key = "input_features" if self.fbank else "input_values"
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=inputs.device.type == "cuda"):
            out = self.model(**{key: inputs.to(param.dtype)}, attention_mask=mask)
        return out.last_hidden_state.float()

    # -- module behaviour -----------------------------------------------------------------

    def train(self, mode: bool = True) -> SSLFeatures:
        """Always eval: the encoder is frozen, dropout and SpecAugment masking stay off."""
        return super().train(False)

    def config(self) -> dict[str, Any]:
        return {
            "kind": "ssl",
            "model": self.model_id,
            "layer": self.layer,
            "sample_rate": self.sample_rate,
        }

    def extra_repr(self) -> str:
        return f"model={self.model_id!r}, layer={self.layer}/{self.total_layers}, dim={self.dim}"
