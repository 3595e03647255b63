"""``fleursr publish``: write the dataset folder, check it loads, then upload it.

The token comes from the usual places (``HF_TOKEN``, ``huggingface-cli login``) through
``huggingface_hub`` itself; fleursr never reads, prints or writes it. ``HF_ENDPOINT`` points
the upload at another hub (the tests use a stand-in server on loopback).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fleursr.corpus.validate import open_corpus
from fleursr.jobs.publish.card import write_card
from fleursr.jobs.publish.fleurs import export_fleurs
from fleursr.jobs.publish.hub import Export, export_hub, verify_hub_folder


@dataclass
class Published:
    export: Export
    card: Path
    url: str | None = None  # the commit (None for a dry run)


def publish(run_dir: str | os.PathLike, repo_id: str, out: str | os.PathLike | None = None,
            layout: str = "hub", private: bool = False, dry_run: bool = False,
            include_dropped: bool = False, license: str = "cc-by-4.0",
            rows_per_file: int = 2000) -> Published:  # fmt: skip
    """Export ``run_dir`` to ``out`` (default ``RUN_DIR/publish/{layout}``), verify it, and
    unless ``dry_run`` upload it to the dataset repo ``repo_id`` (created if missing)."""
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ValueError(f"--repo-id must look like ORG/NAME, got {repo_id!r}")
    open_corpus(run_dir)  # ids unique, audio inside the run: nothing else can be published
    folder = Path(out) if out else Path(run_dir) / "publish" / layout
    if layout == "hub":
        export = export_hub(run_dir, folder, include_dropped, rows_per_file)
    elif layout == "fleurs":
        export = export_fleurs(run_dir, folder, include_dropped)
    else:
        raise ValueError(f"unknown layout {layout!r}; choose hub or fleurs")
    if not export.rows:
        raise ValueError(f"{run_dir}: no utterances to publish (none kept; see `fleursr filter`)")
    card = write_card(folder, run_dir, export, repo_id, license, include_dropped)
    if layout == "hub":
        verify_hub_folder(folder, export)
    result = Published(export, card)
    if not dry_run:
        result.url = upload(folder, repo_id, private)
    return result


def upload(folder: str | os.PathLike, repo_id: str, private: bool = False) -> str:
    """Create the dataset repo if needed and upload ``folder``; returns the commit URL."""
    from huggingface_hub import HfApi

    api = HfApi(endpoint=os.environ.get("HF_ENDPOINT"))
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    info = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="dataset",
                             commit_message="Publish with fleursr")  # fmt: skip
    return str(getattr(info, "commit_url", info))


def format_published(result: Published, repo_id: str) -> str:
    e = result.export
    lines = [f"{e.rows} utterances in {len(e.counts)} languages, {e.layout} layout: {e.folder}"]
    lines += [f"  {lang}: " + ", ".join(f"{s} {n}" for s, n in splits.items())
              for lang, splits in e.counts.items()]  # fmt: skip
    lines.append(f"card: {result.card}")
    lines.append(f"uploaded to {repo_id}: {result.url}" if result.url else
                 "dry run: nothing uploaded")  # fmt: skip
    return "\n".join(lines)
