"""Optional MOS backends that download their weights at first use: UTMOS and torchaudio SQUIM.

Both need torchaudio (``pip install fleursr[torchaudio]``; torchaudio pins one torch version
exactly, so install the pair that matches) and network access the first time (torch.hub caches
the code and the weights under ``torch.hub.get_dir()``; a machine without network can use a
copy of that folder). Where either is missing the constructor raises
:class:`~fleursr.quality.mos.base.MOSBackendUnavailable` saying what to install or fetch.

Licences (``FIELD_NOTES.md``): UTMOS22 (SpeechMOS port) is MIT; SQUIM-objective weights are
CC-BY 4.0; SQUIM-subjective weights are for non-commercial use only.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import numpy as np

from fleursr.quality.mos.base import MOSBackendUnavailable, MOSPredictor

TORCHAUDIO_PIP = "pip install fleursr[torchaudio]"


def _require_torchaudio(backend: str, note: str | None = None):  # -> the torchaudio module
    try:
        import torchaudio
    except Exception as err:  # absent, or built for another torch (OSError / ImportError)
        raise MOSBackendUnavailable(
            backend, f"it needs torchaudio, which does not import here ({err})",
            TORCHAUDIO_PIP, note,
        ) from err  # fmt: skip
    return torchaudio


def _equal_length_batches(waves: list[np.ndarray], batch_size: int) -> Iterator[list[int]]:
    """Indices of waves grouped by length (no padding: it would change the scores)."""
    by_length: dict[int, list[int]] = {}
    for i, wave in enumerate(waves):
        by_length.setdefault(wave.size, []).append(i)
    for indices in by_length.values():
        for k in range(0, len(indices), batch_size):
            yield indices[k : k + batch_size]


class UTMOS(MOSPredictor):
    """UTMOS22 strong learner (naturalness MOS, 16 kHz) through torch.hub (``tarepan/SpeechMOS``).

    The hub repository's code and its checkpoint download from github.com at first use and are
    cached under ``torch.hub.get_dir()``. Score name: ``utmos``. Clips are scored whole (no
    windowing); very short clips (under ~0.5 s) give unreliable scores.
    """

    names = ("utmos",)
    sample_rate = 16000

    def __init__(
        self,
        device: str = "cpu",
        repo: str = "tarepan/SpeechMOS:v1.2.0",
        model: str = "utmos22_strong",
    ) -> None:
        self.device, self.repo, self.model_name = device, repo, model
        note = f"the torch.hub repository {repo} and its weights also download from github.com"
        _require_torchaudio("UTMOS", note)
        import torch

        try:
            self.model = torch.hub.load(repo, model, trust_repo=True, verbose=False)
        except Exception as err:  # URLError, HTTPError, RuntimeError("Missing dependencies")
            raise MOSBackendUnavailable(
                "UTMOS", f"torch.hub could not load {repo} {model} ({type(err).__name__}: {err}); "
                "it needs network access to github.com the first time, or a filled cache at "
                f"{torch.hub.get_dir()}", TORCHAUDIO_PIP,
            ) from err  # fmt: skip
        self.model = self.model.to(device).eval()
        self._takes_sr = "sr" in inspect.signature(self.model.forward).parameters

    def _predict(self, waves: list[np.ndarray], batch_size: int) -> list[dict[str, float]]:
        import torch

        out: list[dict[str, float]] = [{} for _ in waves]
        with torch.inference_mode():
            for indices in _equal_length_batches(waves, batch_size):
                x = torch.from_numpy(np.stack([waves[i] for i in indices])).to(self.device)
                scores = self.model(x, self.sample_rate) if self._takes_sr else self.model(x)
                for i, s in zip(indices, scores.float().cpu().numpy()):
                    out[i] = {"utmos": float(s)}
        return out


class SQUIM(MOSPredictor):
    """torchaudio SQUIM (16 kHz): reference-free STOI, PESQ, SI-SDR and/or subjective MOS.

    Args:
        objective: predict ``squim_stoi``, ``squim_pesq``, ``squim_si_sdr``
            (``SQUIM_OBJECTIVE``, CC-BY 4.0 weights).
        subjective: predict ``squim_mos`` (``SQUIM_SUBJECTIVE``, NORESQA-MOS; weights for
            non-commercial use only). Needs ``reference``: any clean speech recording, not the
            same utterance (a "non-matching reference"); use one reference for a whole run.
        reference, reference_sr: that clean recording, 1-D float, and its sample rate.
        device: ``"cpu"`` or ``"cuda"``.
    """

    sample_rate = 16000

    def __init__(
        self,
        objective: bool = True,
        subjective: bool = False,
        reference: np.ndarray | None = None,
        reference_sr: int = 16000,
        device: str = "cpu",
    ) -> None:
        if not (objective or subjective):
            raise ValueError("SQUIM: ask for objective scores, subjective scores or both")
        if subjective and reference is None:
            raise ValueError("SQUIM subjective needs a clean non-matching `reference` recording")
        self.objective, self.subjective, self.device = objective, subjective, device
        self.names = (("squim_stoi", "squim_pesq", "squim_si_sdr") if objective else ()) + (
            ("squim_mos",) if subjective else ()
        )
        note = "weights download from download.pytorch.org at first use"
        if subjective:
            note += "; SQUIM-subjective weights are licensed for non-commercial use only"
        torchaudio = _require_torchaudio("SQUIM", note)
        import torch

        self.reference = None
        if subjective:
            ref = self._prepare(np.asarray(reference), reference_sr, 0)
            self.reference = torch.from_numpy(ref)[None].to(device)
        bundles = {"objective": objective, "subjective": subjective}
        self.models = {}
        for kind, wanted in bundles.items():
            if not wanted:
                continue
            bundle = getattr(torchaudio.pipelines, f"SQUIM_{kind.upper()}")
            try:
                self.models[kind] = bundle.get_model().to(device).eval()
            except Exception as err:
                raise MOSBackendUnavailable(
                    f"SQUIM {kind}", f"its weights did not load ({type(err).__name__}: {err}); "
                    "they need network access to download.pytorch.org the first time, or a "
                    f"filled cache at {torch.hub.get_dir()}/checkpoints", TORCHAUDIO_PIP, note,
                ) from err  # fmt: skip

    def _predict(self, waves: list[np.ndarray], batch_size: int) -> list[dict[str, float]]:
        import torch

        out: list[dict[str, float]] = [{} for _ in waves]
        with torch.inference_mode():
            for indices in _equal_length_batches(waves, batch_size):
                x = torch.from_numpy(np.stack([waves[i] for i in indices])).to(self.device)
                scores: dict[str, np.ndarray] = {}
                if "objective" in self.models:
                    stoi, pesq, si_sdr = self.models["objective"](x)
                    scores.update(squim_stoi=stoi, squim_pesq=pesq, squim_si_sdr=si_sdr)
                if "subjective" in self.models:
                    ref = self.reference.expand(len(indices), -1)
                    scores["squim_mos"] = self.models["subjective"](x, ref)
                values = {k: v.float().cpu().numpy() for k, v in scores.items()}
                for j, i in enumerate(indices):
                    out[i] = {k: float(v[j]) for k, v in values.items()}
        return out
