"""The layout docs/architecture.md describes, checked: one import package, floors that import
only downward (imports inside functions count too), no package file over 400 lines, and a wheel
that installs nothing but ``fleursr``."""

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: floor -> the floors it may import (itself included)
ALLOWED = {
    "corpus": {"corpus"},
    "nn": {"corpus", "nn"},
    "degrade": {"corpus", "degrade"},
    "synth": {"corpus", "synth"},
    "restore": {"corpus", "nn", "degrade", "restore"},
    "quality": {"corpus", "nn", "degrade", "quality"},
    "tts": {"corpus", "nn", "tts"},
    "jobs": {"corpus", "nn", "degrade", "synth", "restore", "quality", "tts", "jobs"},
}


def package_files():
    return [p for floor in ALLOWED for p in sorted((ROOT / floor).rglob("*.py"))]


def fleursr_imports(path: Path) -> set[str]:
    """The floors (``fleursr.X``) a module imports anywhere in its body."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "fleursr" and len(parts) > 1:
                found.add(parts[1])
            elif parts[0] in ALLOWED:  # a bare `import restore` would bypass the namespace
                found.add(f"bare:{parts[0]}")
    return found


def test_floors_import_only_downward():
    wrong = []
    for path in package_files():
        floor = path.relative_to(ROOT).parts[0]
        for target in fleursr_imports(path) - ALLOWED[floor]:
            wrong.append(f"{path.relative_to(ROOT)} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_an_upward_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from fleursr.restore.model import Restorer\n    import jobs\n")
    assert fleursr_imports(module) == {"restore", "bare:jobs"}


def test_no_package_file_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in package_files()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}  # fmt: skip
    assert not long


@pytest.mark.slow
def test_wheel_installs_only_fleursr(tmp_path):
    """Built from a copy of the checkout's files (setuptools writes build/ beside its input)."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
        text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    src = tmp_path / "src"
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path / "dist"), str(src)], check=True)  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("fleursr-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"fleursr"}
    for floor in ALLOWED:
        assert f"fleursr/{floor}/__init__.py" in names
    for weights in ("restore", "tts"):
        assert f"fleursr/{weights}/weights/embedded/model.safetensors" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "fleursr = fleursr.jobs.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()
