"""Experiments over the models: ``evaluate`` (the results table), the TTS comparison, the demo."""
