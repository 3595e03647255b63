"""What every benchmark script writes: its rows, its settings and the machine it ran on."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    """Platform, processor, CPU count and, where torch is imported, its version, threads, GPU."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }
    import sys

    torch = sys.modules.get("torch")
    if torch is not None:
        info["torch"] = torch.__version__
        info["cpu_threads"] = torch.get_num_threads()
        info["cuda"] = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    return info


def write_result(out: str | os.PathLike, benchmark: str, rows: list[dict], **settings: Any) -> Path:
    """Write ``{"benchmark", "machine", **settings, "rows"}`` as JSON to ``out``; say where."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": benchmark, "machine": machine(), **settings, "rows": rows}
    path.write_text(json.dumps(result, indent=2))
    print(f"written {path}")
    return path
