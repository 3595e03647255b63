"""The naturalness notebook runs top to bottom on a tiny scored run."""

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parents[2] / "notebooks" / "naturalness.ipynb"


def test_naturalness_notebook_executes(tmp_path, monkeypatch, scored_run):
    run = scored_run(tmp_path)
    monkeypatch.setenv("FLEURSR_RUN", str(run))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    text = "".join(str(o.get("text", "")) + str(o.get("data", {})) for o in outputs)
    assert "6 utterances, 2 languages" in text
    assert "th_th_00001" in text  # the worst utterance is listed
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert not any(o.output_type == "error" for o in outputs)
    assert os.environ["FLEURSR_RUN"] == str(run)
