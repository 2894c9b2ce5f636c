"""Build the drift check's Function Compute layer: ``python -m tools.build_layer`` (or ``make layer``).

The start function of a retraining trigger with ``trigger.drift`` runs the check (functions/start_pipeline.py) and
imports numpy, scipy and oss2, which FC's python3.12 runtime does not document as built in. With
``trigger.drift.layer: build`` (the default) the stack publishes them as a layer (components/drift_layer.py) from the
zip this tool writes:

- the packages pinned in ``images/drift-check/layer-requirements.txt`` (requirements.txt's pins and everything they
  pull in, each pinned), installed by pip one by one (``--no-deps``) for FC's platform, not this machine's: CPython
  3.12 on x86_64 Linux, binary wheels only (``--only-binary=:all:``). FC 3.0's python3.12 runtime
  is Debian 11 on x86_64 (https://www.alibabacloud.com/help/id/functioncompute/fc-3-0/user-guide/runtime-overview-3,
  the runtime table); Debian 11 ships glibc 2.31, so pip is given every manylinux tag a glibc 2.31 runs,
  ``manylinux_2_31_x86_64`` down to ``manylinux_2_17_x86_64`` (= ``manylinux2014_x86_64``), one ``--platform``
  each (pip 23 does not widen a ``manylinux_2_31`` it is given to the older tags);
- except :data:`FROM_SOURCE`: oss2 2.19.1 and crcmod 1.7 publish no wheel on PyPI (sdists only), so pip builds them
  here (setuptools pinned through ``PIP_CONSTRAINT``, so their metadata does not move with setuptools' releases).
  Both are pure Python; crcmod's C extension is optional, and one compiled for this machine's interpreter is left out
  (crcmod then imports its pure-Python CRC: slower, the same figures);
- under ``python/`` in the zip: FC unpacks a layer into ``/opt`` and puts ``/opt/python`` on a Python function's
  import path (https://www.alibabacloud.com/help/en/functioncompute/fc-3-0/user-guide/create-a-custom-layer-1);
- deterministic: entries sorted, every timestamp 1980-01-01, modes normalised (0644, 0755 for executables), no
  ``bin/`` (pip's console scripts carry this machine's interpreter path) and no byte code (``--no-compile``), so the
  same requirements give the same bytes, the same sha256, the same OSS object and no new layer version on a deploy.

It prints ``<sha256>  <zip>``. The offline plan (``./plan``) needs neither this zip nor the network.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

DESCRIPTION: Final = "Build the drift check's Function Compute layer zip (see tools/build_layer.py)."
ROOT: Final = Path(__file__).resolve().parent.parent
REQUIREMENTS: Final = ROOT / "images" / "drift-check" / "layer-requirements.txt"
OUTPUT: Final = ROOT / "build" / "layers" / "drift-check.zip"
# FC's python3.12 runtime: CPython 3.12, Debian 11 (glibc 2.31), x86_64 (module docstring).
PYTHON_VERSION: Final = "3.12"
PLATFORM: Final = "manylinux_2_31_x86_64"  # Debian 11's glibc
PLATFORMS: Final = (*(f"manylinux_2_{minor}_x86_64" for minor in range(31, 16, -1)), "manylinux2014_x86_64")
LAYER_ROOT: Final = "python"  # FC adds /opt/python to sys.path
FIXED_TIME: Final = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
SKIPPED_TOP: Final = frozenset({"bin"})  # console scripts: their shebang is this machine's interpreter
SKIPPED_PARTS: Final = frozenset({"__pycache__"})
FROM_SOURCE: Final = frozenset({"oss2", "crcmod"})  # no wheel on PyPI; pure Python (module docstring)
BUILD_BACKEND: Final = "setuptools==80.9.0"  # what builds FROM_SOURCE's sdists (their pyproject-less setup.py)


class LayerBuildError(RuntimeError):
    """pip could not install the requirements for FC's platform (its output is above)."""


def pip_command(
    requirements: Path, target: Path, *, find_links: Sequence[Path] = (), no_index: bool = False, binary: bool = True
) -> list[str]:
    """The pip call that installs ``requirements`` into ``target``, each pin alone (``--no-deps``: the file pins the
    whole tree): for FC's python3.12 from wheels only, or (``binary=False``) built here from sdists."""
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
    command += ["--no-deps", "--target", str(target)]
    if binary:
        abi = f"cp{PYTHON_VERSION.replace('.', '')}"
        command.append("--only-binary=:all:")
        for platform in PLATFORMS:
            command += ["--platform", platform]
        command += ["--python-version", PYTHON_VERSION]
        command += ["--implementation", "cp", "--abi", abi]
    else:
        command.append("--no-binary=:all:")
    if no_index:
        command.append("--no-index")
    for folder in find_links:
        command += ["--find-links", str(folder)]
    if _has_hashes(requirements):
        command.append("--require-hashes")
    return [*command, "--requirement", str(requirements)]


def split_requirements(requirements: Path) -> tuple[list[str], list[str]]:
    """The pins as (installed from wheels, built from source): comments and blank lines dropped."""
    wheels: list[str] = []
    sources: list[str] = []
    for raw in requirements.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("--") else raw.strip()
        if not line:
            continue
        name = line.split("==", 1)[0].split(" ", 1)[0].strip().lower()
        (sources if name in FROM_SOURCE else wheels).append(line)
    return wheels, sources


def merge_built(source: Path, target: Path) -> None:
    """Copy what pip built here into ``target``, without extension modules (compiled for this interpreter)."""
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_dir() or path.suffix in {".so", ".pyd"}:
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(path.read_bytes())
        destination.chmod(path.stat().st_mode & 0o777)


def _has_hashes(requirements: Path) -> bool:
    return "--hash=" in requirements.read_text(encoding="utf-8")


def _entries(tree: Path) -> list[tuple[str, Path]]:
    """Every file under ``tree`` as (its name in the zip, its path), sorted by name; skipped parts left out."""
    found: list[tuple[str, Path]] = []
    for path in tree.rglob("*"):
        relative = path.relative_to(tree)
        if relative.parts[0] in SKIPPED_TOP or SKIPPED_PARTS & set(relative.parts) or path.suffix == ".pyc":
            continue
        if path.is_file():
            found.append((f"{LAYER_ROOT}/{relative.as_posix()}", path))
    return sorted(found)


def write_zip(tree: Path, out: Path) -> str:
    """Zip ``tree`` under ``python/`` into ``out`` byte for byte reproducibly; return the zip's sha256."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, path in _entries(tree):
            entry = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            executable = path.stat().st_mode & stat.S_IXUSR
            entry.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3  # Unix, whatever machine builds it, so the mode bits mean the same
            archive.writestr(entry, path.read_bytes(), compresslevel=9)
    os.replace(partial, out)  # never a half-written zip where the program looks for one
    return sha256_of(out)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(
    requirements: Path = REQUIREMENTS,
    out: Path = OUTPUT,
    *,
    find_links: Sequence[Path] = (),
    no_index: bool = False,
) -> str:
    """Install ``requirements`` for FC's platform into a scratch folder and zip it into ``out``; return its sha256."""
    wheels, sources = split_requirements(requirements)
    with tempfile.TemporaryDirectory(prefix="drift-layer-") as scratch:
        target, built = Path(scratch) / "site", Path(scratch) / "built"
        for lines, folder, binary in ((wheels, target, True), (sources, built, False)):
            if not lines:
                continue
            pins = Path(scratch) / f"{folder.name}.txt"
            pins.write_text("\n".join(lines) + "\n", encoding="utf-8")
            _pip(pip_command(pins, folder, find_links=find_links, no_index=no_index, binary=binary), requirements)
        if sources:
            merge_built(built, target)
        return write_zip(target, out)


def _pip(command: list[str], requirements: Path) -> None:
    env = dict(os.environ)
    if "--no-binary=:all:" in command:  # a build from source: pin what builds it
        constraint = Path(command[-1]).with_name("build-backend.txt")
        constraint.write_text(f"{BUILD_BACKEND}\n", encoding="utf-8")
        env["PIP_CONSTRAINT"] = str(constraint)
    result = subprocess.run(command, check=False, env=env)
    if result.returncode != 0:
        where = f"{PLATFORM} / CPython {PYTHON_VERSION}" if "--platform" in command else "a build from source"
        raise LayerBuildError(
            f"pip could not install {requirements} for {where} (exit {result.returncode}, output above): each pin "
            f"needs a binary wheel for that platform, or a pure-Python sdist listed in tools/build_layer.py FROM_SOURCE"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.build_layer", description=DESCRIPTION)
    parser.add_argument("--requirements", type=Path, default=REQUIREMENTS, help="pinned requirements to install")
    parser.add_argument("--out", type=Path, default=OUTPUT, help="the zip to write (the stack reads this path)")
    parser.add_argument("--find-links", type=Path, action="append", default=[], help="a folder of wheels")
    parser.add_argument("--no-index", action="store_true", help="only --find-links, no package index")
    args = parser.parse_args(argv)
    try:
        digest = build(args.requirements, args.out, find_links=args.find_links, no_index=args.no_index)
    except (LayerBuildError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{digest}  {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
