"""Batch jobs on dask: sharded, resumable, checksummed runs (restore, score, filter, report)."""
