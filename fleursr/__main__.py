"""``python -m fleursr``: the ``fleursr`` command."""

from fleursr.jobs.cli import main

raise SystemExit(main())
