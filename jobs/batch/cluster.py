"""Where batch jobs run: an embedded dask ``LocalCluster`` or an existing cluster.

    with open_client(ClusterOptions(workers=4)) as client:      # one worker per core by default
        ...
    with open_client(ClusterOptions(scheduler="tcp://head:8786", gpus_per_worker=1)) as client:
        ...

An embedded cluster has one worker process per core, one thread each (the models are not
thread-safe and torch parallelizes inside a process). ``scheduler`` joins any running cluster
(``dask scheduler`` / ``dask worker``, dask-jobqueue, Kubernetes). GPUs are dask resources:
start GPU workers with ``--resources GPU=1`` and tasks ask for ``{"GPU": gpus_per_worker}``.
``workers=0`` runs no cluster at all: the job does its shards in its own process (one core's
worth of work with all its threads, no dask start-up; ``fleursr build --workers 0``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from distributed import Client, LocalCluster


@dataclass
class ClusterOptions:
    scheduler: str | None = None  # address of a running scheduler; None: an embedded cluster
    workers: int | None = None  # embedded cluster: worker processes (default: cores); 0: none
    threads_per_worker: int = 1
    gpus_per_worker: int = 0  # > 0: tasks need {"GPU": n}; embedded workers advertise it
    processes: bool = True  # embedded cluster: False runs workers as threads in this process
    retries: int = 3  # a task is retried this often when its worker dies
    dashboard: bool = True
    verbose: bool = True

    @property
    def in_process(self) -> bool:
        """No cluster: ``workers=0`` and no scheduler; the job runs its shards one after the
        other in this process (models loaded once, no dask start-up or transfers)."""
        return self.workers == 0 and not self.scheduler

    @property
    def resources(self) -> dict[str, float] | None:
        """Resources each task asks for (``None``: any worker will do)."""
        return {"GPU": self.gpus_per_worker} if self.gpus_per_worker else None


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def open_client(options: ClusterOptions | None = None) -> Iterator[Client]:
    """A dask client on the cluster ``options`` describe; an embedded cluster is shut down on
    exit, a joined one is left running. Prints the dashboard address."""
    opts = options or ClusterOptions()
    if opts.scheduler:
        client = Client(opts.scheduler)
        cluster = None
    else:
        resources = {"GPU": opts.gpus_per_worker} if opts.gpus_per_worker else None
        cluster = LocalCluster(
            n_workers=opts.workers or default_workers(),
            threads_per_worker=opts.threads_per_worker,
            processes=opts.processes,
            resources=resources,
            dashboard_address=":0" if opts.dashboard else None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    try:
        if opts.verbose:
            where = opts.scheduler or "embedded LocalCluster"
            link = client.dashboard_link if opts.dashboard or opts.scheduler else "off"
            print(f"dask: {where}, {len(client.scheduler_info()['workers'])} workers, "
                  f"dashboard {link}")  # fmt: skip
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
