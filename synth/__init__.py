"""The synthetic corpus maker: FLEURS-style parallel sentences in many languages, spoken by
espeak-ng voices (several per language) or a natural voice (Piper for en_us, Festival's Catalan
HTS voice for ca_es), split 7:1:2 into train/dev/test."""

from fleursr.synth.corpus import ENGINES, plan_corpus, synth_corpus

__all__ = ["ENGINES", "plan_corpus", "synth_corpus"]
