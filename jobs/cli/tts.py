"""``fleursr tts ...`` subcommands: train, calibrate, say, compare. Thin handlers over
:mod:`tts`."""

from __future__ import annotations

import argparse

from fleursr.jobs.cli.batch import ASR_HELP


def _cmd_train(args: argparse.Namespace) -> int:
    from fleursr.tts.train import TTSTrainConfig, train_tts

    cfg = TTSTrainConfig(data=args.data, out=args.out, config=args.config, steps=args.steps,
                         batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                         device=args.device, save_every=args.save_every,
                         log_every=args.log_every, warmup_steps=args.warmup_steps)  # fmt: skip
    out = train_tts(cfg)
    print(f"voice trained for {args.steps} steps: {out.resolve()} (log: {out / 'train_log.csv'})")
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from fleursr.corpus.manifest import Corpus
    from fleursr.tts.pretrained import TTS, resolve_voice
    from fleursr.tts.train import calibrate_durations

    voice_dir = resolve_voice(args.model)
    voice = TTS.from_pretrained(voice_dir)
    before = dict(voice.duration_scale)
    scales = calibrate_durations(voice, Corpus(args.data), args.split, args.per_language)
    for language, scale in scales.items():
        print(f"{language}: durations x {scale:.3f} (was {before.get(language, 1.0):.3f}), "
              f"default speaker {voice.default_speakers[language]}")  # fmt: skip
    out = args.out or voice_dir
    voice.save_pretrained(out)
    print(f"calibrated voice: {out}")
    return 0


def _cmd_say(args: argparse.Namespace) -> int:
    from fleursr.jobs.vocoders import load_synthesizer
    from fleursr.tts.synthesize import say_lines, say_to_file

    if (args.text is None) == (args.text_file is None):
        raise SystemExit("fleursr tts say: give exactly one of --text and --text-file")
    synth = load_synthesizer(args.model, args.vocoder, args.device)
    common = dict(speaker=args.speaker, length_scale=args.length_scale)
    if args.text is not None:
        path, seconds = say_to_file(synth, args.text, args.language, args.out, **common)
        print(f"{seconds:.2f} s of speech: {path}")
    else:
        paths = say_lines(synth, args.text_file, args.language, args.out, **common)
        print(f"{len(paths)} sentences synthesized into {args.out}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from fleursr.jobs.experiments.tts_compare import CompareConfig, run_compare
    from fleursr.jobs.experiments.tts_report import to_markdown

    cfg = CompareConfig(original=args.original, restored=args.restored, out=args.out,
                        config=args.config, steps=args.steps, batch_size=args.batch_size,
                        seed=args.seed, device=args.device, vocoder=args.vocoder, asr=args.asr,
                        mos=args.mos, per_language=args.per_language,
                        train=args.train)  # fmt: skip
    summary = run_compare(cfg)
    print(to_markdown(summary["table"], summary["mos_metric"] or "MOS"))
    print(f"table, plots and audio: {args.out}")
    return 0


def _add_training(p: argparse.ArgumentParser, steps: int) -> None:
    p.add_argument("--config", default="embedded",
                   help="size (tiny|embedded|full) or a YAML file of overrides")  # fmt: skip
    p.add_argument("--steps", type=int, default=steps)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")


def add_tts_commands(sub: argparse._SubParsersAction) -> None:
    """Add the ``tts`` subcommand group to ``sub``."""
    tts = sub.add_parser("tts", help="the multilingual TTS baseline and the restoration experiment")
    tsub = tts.add_subparsers(dest="tts_command", required=True)

    p = tsub.add_parser("train", help="train a multi-speaker, multi-language voice on a corpus")
    p.add_argument("--data", required=True, help="corpus directory (its train split)")
    p.add_argument("--out", required=True, help="voice directory (resumes if present)")
    _add_training(p, steps=20000)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup-steps", type=int, default=500)
    p.add_argument("--save-every", type=int, default=1000)
    p.add_argument("--log-every", type=int, default=50)
    p.set_defaults(handler=_cmd_train)

    p = tsub.add_parser("calibrate", help="set each language's speaking time to a corpus', and "
                        "its default speaker (done at the end of `tts train`; for a voice "
                        "stopped early)")  # fmt: skip
    p.add_argument("--model", required=True, help="voice directory")
    p.add_argument("--data", required=True, help="the corpus it was trained on")
    p.add_argument("--split", default="train")
    p.add_argument("--per-language", type=int, default=50, help="utterances a language")
    p.add_argument("--out", default=None, help="write the calibrated voice here (default: "
                   "in place)")  # fmt: skip
    p.set_defaults(handler=_cmd_calibrate)

    p = tsub.add_parser("say", help="synthesize a sentence, or every line of a text file")
    p.add_argument(
        "--model",
        default="embedded",
        help="voice directory (from `fleursr tts train`); default: the shipped voice",
    )
    p.add_argument(
        "--vocoder",
        default="auto",
        help="restoration checkpoint whose WaveFit renders the mel, embedded (the "
        "shipped restorer's) or griffin-lim (no weights); default auto: the "
        "shipped WaveFit where it renders the voice's mel, else griffin-lim",
    )
    p.add_argument("--language", required=True, help="FLEURS code, e.g. fr_fr")
    p.add_argument("--speaker", default=None, help="speaker id (default: the language's "
                   "speaker with the most training speech)")  # fmt: skip
    p.add_argument("--text", help="the sentence to say")
    p.add_argument("--text-file", help="UTF-8 file, one sentence a line (--out is then a folder)")
    p.add_argument("--out", required=True, help="output audio file, or folder with --text-file")
    p.add_argument("--length-scale", type=float, default=1.0, help="> 1 speaks slower")
    p.add_argument("--device", default="cpu")
    p.set_defaults(handler=_cmd_say)

    p = tsub.add_parser("compare", help="TTS trained on the original vs the restored corpus")
    p.add_argument("--original", required=True, help="the original corpus directory")
    p.add_argument("--restored", required=True, help="the restored corpus directory")
    p.add_argument("--out", required=True, help="experiment directory (resumes training)")
    _add_training(p, steps=20000)
    p.add_argument("--vocoder", default=None, help="restoration checkpoint (default griffin-lim)")
    p.add_argument("--asr", default="auto", help=ASR_HELP)
    p.add_argument("--mos", default="dnsmos", help="dnsmos, utmos, squim or none")
    p.add_argument("--per-language", type=int, default=20, help="held-out sentences a language")
    p.add_argument("--no-train", dest="train", action="store_false",
                   help="compare the voices in OUT as they stand (e.g. while their training goes "
                   "on elsewhere); --steps is then ignored")  # fmt: skip
    p.set_defaults(handler=_cmd_compare)
