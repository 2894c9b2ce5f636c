"""Set up ``.venv`` for ``make`` and ``./plan``: once, safely, and saying what it does.

    python3 tools/bootstrap.py        (run by every ``make`` target and by ``./plan``; fast when all is set)

- Refuses an unsupported Python before installing anything, naming the versions that work and how to pick one
  (``PYTHON=python3.12 make plan``).
- Detects a broken or half-created ``.venv`` (no interpreter, an interpreter that does not start or is not a
  virtual environment, no stamp from a finished install) and rebuilds it; re-installs when a requirements file
  changed (the stamp holds a hash of the three files and the interpreter's version, not a file time).
- Never installs into the system Python: pip runs only as ``.venv/bin/python -m pip``, after checking that this
  interpreter is a virtual environment's, with ``PIP_REQUIRE_VIRTUALENV=1``.
- Two set-ups at once (two terminals, ``make -j``) take turns on a lock file; the second finds the work done.
- Writes only to stderr, so ``./plan --json`` keeps a clean stdout. Exit 0 when ``.venv`` is ready, 2 otherwise.

It runs under whatever ``python3`` a newcomer has, so its syntax stays within Python 3.7 (annotations are
postponed; no walrus, no ``match``) to be able to say "unsupported" instead of failing to parse, and it imports
nothing of the project.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time

SUPPORTED = ((3, 11), (3, 12), (3, 13))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv")
VENV_PYTHON = os.path.join(VENV, "bin", "python")
STAMP = os.path.join(VENV, ".installed")
LOCK = os.path.join(ROOT, ".venv.lock")
LOG = os.path.join(ROOT, ".venv-setup.log")
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt", os.path.join("policies", "requirements.txt"))
# What `python -c PROBE` prints from a healthy virtual environment's interpreter: "<major>.<minor> venv".
PROBE = "import sys; print('%d.%d' % sys.version_info[:2], 'venv' if sys.prefix != sys.base_prefix else 'system')"
EXIT_READY = 0
EXIT_FAILED = 2


def say(message: str) -> None:
    print(f"setup: {message}", file=sys.stderr, flush=True)


def supported_text() -> str:
    names = [f"{major}.{minor}" for major, minor in SUPPORTED]
    return f"{', '.join(names[:-1])} or {names[-1]}"


def requirements_hash(version: str, root: str = ROOT) -> str:
    """The stamp's content: the interpreter's version and every requirements file's bytes."""
    digest = hashlib.sha256(f"python {version}\n".encode())
    for name in REQUIREMENTS:
        with open(os.path.join(root, name), "rb") as handle:
            digest.update(name.encode() + b"\n" + handle.read() + b"\n")
    return digest.hexdigest()


def venv_python_version() -> str | None:
    """``"3.11"`` when ``.venv/bin/python`` starts and is a virtual environment's; ``None`` otherwise."""
    if not os.path.isfile(VENV_PYTHON):
        return None
    try:
        output = subprocess.check_output([VENV_PYTHON, "-c", PROBE], stderr=subprocess.STDOUT, env=_clean_env())
    except (OSError, subprocess.CalledProcessError):
        return None
    version, _, kind = output.decode(errors="replace").strip().partition(" ")
    return version if kind == "venv" else None


def read_stamp() -> str | None:
    try:
        with open(STAMP) as handle:
            return handle.read().strip()
    except OSError:
        return None


def state() -> tuple[str, str | None]:
    """``("ready", v)``, ``("stale", v)`` (requirements changed), ``("unstamped", v)`` (no finished set-up: an
    interrupted one, or a .venv made by hand) or ``("broken", why)``."""
    version = venv_python_version()
    if version is None:
        if os.path.exists(VENV):
            return "broken", ".venv has no working virtual-environment interpreter (bin/python)"
        return "broken", None
    if tuple(int(part) for part in version.split(".")) not in SUPPORTED:
        return "broken", f".venv runs Python {version}, which is not supported ({supported_text()})"
    stamp = read_stamp()
    if stamp is None:
        return "unstamped", version
    if stamp != requirements_hash(version):
        return "stale", version
    return "ready", version


def has_pip() -> bool:
    command = [VENV_PYTHON, "-m", "pip", "--version"]
    return subprocess.call(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_clean_env()) == 0


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    # A virtual environment of the caller's must not leak into ours (pip would install there).
    env.pop("PYTHONHOME", None)
    env.pop("PYTHONPATH", None)
    env["PIP_REQUIRE_VIRTUALENV"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def run_logged(command: list[str], what: str) -> bool:
    with open(LOG, "ab") as log:
        log.write(f"\n$ {' '.join(command)}\n".encode())
        log.flush()
        code = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=_clean_env())
    if code != 0:
        say(f"{what} failed (exit {code}); the last lines of {os.path.relpath(LOG, ROOT)}:")
        with open(LOG, "rb") as log:
            tail = log.read().decode(errors="replace").splitlines()[-15:]
        for line in tail:
            print(f"    {line}", file=sys.stderr)
        say("fix the cause (network, proxy, disk), then run the same command again; it resumes safely.")
    return code == 0


def check_interpreter(here: tuple[int, ...] = sys.version_info[:2]) -> bool:
    """The interpreter running this script (``here``, its version) must be one that builds a supported .venv."""
    if here in SUPPORTED:
        return True
    say(
        f"Python {here[0]}.{here[1]} ({sys.executable}) is not supported: pai-mlops needs Python {supported_text()}. "
        "Pick one with PYTHON, for example `PYTHON=python3.12 make plan` or `PYTHON=python3.12 ./plan`."
    )
    return False


def install(rebuild: bool, why: str | None) -> bool:
    started = time.time()
    if rebuild:
        if not check_interpreter():
            return False
        if why:
            say(f"{why}: rebuilding it.")
            shutil.rmtree(VENV, ignore_errors=True)
        say(
            f"creating .venv with Python {sys.version_info[0]}.{sys.version_info[1]} and installing the "
            f"pinned tools and SDKs (usually 1 to 3 minutes; pip's log: {os.path.relpath(LOG, ROOT)})."
        )
        with open(LOG, "wb"):
            pass
        if not run_logged([sys.executable, "-m", "venv", VENV], "creating .venv"):
            return False
    elif why:
        say(f"{why}: finishing it (pip's log: {os.path.relpath(LOG, ROOT)}).")
    else:
        say(f"a requirements file changed: updating .venv (pip's log: {os.path.relpath(LOG, ROOT)}).")
    version = venv_python_version()
    if version is None:
        say(".venv/bin/python is not a virtual environment's interpreter; refusing to install into it.")
        return False
    say("installing requirements-dev.txt into .venv ...")
    command = [VENV_PYTHON, "-m", "pip", "install", "--quiet", "-r", os.path.join(ROOT, "requirements-dev.txt")]
    if not run_logged(command, "pip install"):
        return False
    with open(STAMP, "w") as handle:
        handle.write(requirements_hash(version) + "\n")
    say(f".venv is ready ({time.time() - started:.0f} s).")
    return True


def main() -> int:
    status, detail = state()
    if status == "ready":
        return EXIT_READY
    with open(LOCK, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            say("another set-up of .venv is running; waiting for it to finish ...")
            fcntl.flock(lock, fcntl.LOCK_EX)
        # The other run may have done the work while this one waited.
        status, detail = state()
        if status == "ready":
            return EXIT_READY
        if status == "unstamped" and not has_pip():
            status, detail = "broken", ".venv was left half-created (no pip in it)"
        if status == "broken":
            ok = install(rebuild=True, why=detail)
        else:
            unstamped = ".venv has no stamp from a finished set-up (interrupted, or made by hand)"
            ok = install(rebuild=False, why=unstamped if status == "unstamped" else None)
    return EXIT_READY if ok else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
