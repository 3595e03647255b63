"""The top floor: dask batch jobs (``batch``), publishing (``publish``), experiments
(``experiments``: evaluate, the TTS comparison, the demo) and the ``fleursr`` command (``cli``)."""
