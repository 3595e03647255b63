"""The ``fleursr`` command: thin subcommands over library functions."""

from fleursr.jobs.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
