"""The synthetic corpus maker: FLEURS-style parallel sentences in many languages, spoken by
espeak-ng voices (several per language), split 7:1:2 into train/dev/test."""

from fleursr.synth.corpus import plan_corpus, synth_corpus

__all__ = ["plan_corpus", "synth_corpus"]
