"""tools/bootstrap.py: the set-up behind `make` and ./plan, run for real on a throwaway project.

Each test copies the script beside requirements files that name nothing, so a real virtual environment is
created (about 3 s) without downloading anything.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools import bootstrap
from tools.mock_engine import ROOT

# The interpreter behind this test run's .venv: a Python that is not a virtual environment's.
BASE_PYTHON = os.path.realpath(sys.executable)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "tools").mkdir()
    (tmp_path / "policies").mkdir()
    shutil.copy(ROOT / "tools" / "bootstrap.py", tmp_path / "tools" / "bootstrap.py")
    (tmp_path / "requirements.txt").write_text("# nothing to install\n")
    (tmp_path / "requirements-dev.txt").write_text("-r requirements.txt\n")
    (tmp_path / "policies" / "requirements.txt").write_text("# nothing\n")
    return tmp_path


def run(project: Path, python: str = BASE_PYTHON) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, str(project / "tools" / "bootstrap.py")], capture_output=True, text=True, timeout=300, check=False
    )


def venv_creations(project: Path) -> int:
    return (project / ".venv-setup.log").read_text().count(" -m venv ")


def test_an_unsupported_python_is_refused_before_anything_is_installed(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bootstrap.check_interpreter((3, 10)) is False
    assert capsys.readouterr().err == (
        f"setup: Python 3.10 ({sys.executable}) is not supported: pai-mlops needs Python 3.11, 3.12 or 3.13. "
        "Pick one with PYTHON, for example `PYTHON=python3.12 make plan` or `PYTHON=python3.12 ./plan`.\n"
    )
    assert bootstrap.check_interpreter(sys.version_info[:2]) is True


def test_the_setup_wrapper_advises_on_a_missing_or_ancient_interpreter(project: Path, tmp_path: Path) -> None:
    shutil.copy(ROOT / "tools" / "setup", project / "tools" / "setup")
    missing = subprocess.run(
        [str(project / "tools" / "setup")],
        env={**os.environ, "PYTHON": "nosuchpython3"},
        capture_output=True,
        text=True,
    )
    assert (missing.returncode, missing.stderr) == (
        2,
        "setup: 'nosuchpython3' is not a command on this machine: pai-mlops needs Python 3.11, 3.12 or 3.13; pick "
        "one with PYTHON, e.g. PYTHON=python3.12 make plan\n",
    )
    # An interpreter too old to parse bootstrap.py: a stand-in that reports Python 3.6 as such a python would.
    ancient = tmp_path / "python3.6"
    ancient.write_text('#!/bin/sh\ncase "$1" in -V) echo "Python 3.6.15";; *) exit 1;; esac\n')
    ancient.chmod(0o755)
    old = subprocess.run(
        [str(project / "tools" / "setup")], env={**os.environ, "PYTHON": str(ancient)}, capture_output=True, text=True
    )
    assert (old.returncode, old.stderr) == (
        2,
        f"setup: {ancient} is Python 3.6.15, which is not supported: pai-mlops needs Python 3.11, 3.12 or 3.13; "
        "pick one with PYTHON, e.g. PYTHON=python3.12 make plan\n",
    )
    assert not (project / ".venv").exists()


def test_a_first_run_says_what_it_does_and_a_second_does_nothing(project: Path) -> None:
    first = run(project)
    assert first.returncode == 0, first.stderr
    lines = first.stderr.splitlines()
    assert lines[0].startswith(f"setup: creating .venv with Python {sys.version_info[0]}.{sys.version_info[1]} ")
    assert "usually 1 to 3 minutes" in lines[0]
    assert lines[-1].startswith("setup: .venv is ready (")
    assert (project / ".venv" / ".installed").read_text().strip() == bootstrap.requirements_hash(
        f"{sys.version_info[0]}.{sys.version_info[1]}", str(project)
    )
    second = run(project)
    assert (second.returncode, second.stderr) == (0, "")


def test_a_half_created_venv_is_rebuilt(project: Path) -> None:
    # `python -m venv` interrupted before pip was in place, and no stamp: nothing in it can be trusted.
    subprocess.run([BASE_PYTHON, "-m", "venv", "--without-pip", str(project / ".venv")], check=True)
    result = run(project)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == "setup: .venv was left half-created (no pip in it): rebuilding it."
    assert (project / ".venv" / ".installed").is_file()
    assert venv_creations(project) == 1


def test_a_venv_without_a_stamp_but_with_pip_is_finished_not_deleted(project: Path) -> None:
    """A .venv made by hand, or a set-up interrupted during pip install: pip resumes; the user's files stay."""
    subprocess.run([BASE_PYTHON, "-m", "venv", str(project / ".venv")], check=True)
    (project / ".venv" / "mine.txt").write_text("the user's\n")
    result = run(project)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        "setup: .venv has no stamp from a finished set-up (interrupted, or made by hand): finishing it (pip's log: "
        ".venv-setup.log)."
    )
    assert (project / ".venv" / "mine.txt").read_text() == "the user's\n"
    assert (project / ".venv" / ".installed").is_file()
    assert venv_creations(project) == 0


def test_a_venv_whose_interpreter_is_gone_is_rebuilt(project: Path) -> None:
    assert run(project).returncode == 0
    interpreter = project / ".venv" / "bin" / "python"
    interpreter.unlink()  # a symlink: never write through it
    interpreter.write_text("not a python\n")
    result = run(project)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        "setup: .venv has no working virtual-environment interpreter (bin/python): rebuilding it."
    )


def test_an_interpreter_that_is_not_a_venv_is_never_installed_into(project: Path) -> None:
    """A .venv/bin/python pointing at the system Python (stamp and all) is replaced, not used by pip."""
    (project / ".venv" / "bin").mkdir(parents=True)
    os.symlink(BASE_PYTHON, project / ".venv" / "bin" / "python")
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    (project / ".venv" / ".installed").write_text(bootstrap.requirements_hash(version, str(project)))
    result = run(project)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0].startswith("setup: .venv has no working virtual-environment interpreter")
    probe = [str(project / ".venv" / "bin" / "python"), "-c", bootstrap.PROBE]
    assert subprocess.check_output(probe, text=True).split()[1] == "venv"


def test_a_changed_requirements_file_updates_without_rebuilding(project: Path) -> None:
    assert run(project).returncode == 0
    (project / "requirements.txt").write_text("# still nothing, but changed\n")
    result = run(project)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        "setup: a requirements file changed: updating .venv (pip's log: .venv-setup.log)."
    )
    assert venv_creations(project) == 1  # the log of the first run, appended to: no second venv


def test_two_first_runs_at_once_take_turns(project: Path) -> None:
    with (project / ".venv.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # both runs start while another set-up holds the lock
        runs = [
            subprocess.Popen([BASE_PYTHON, str(project / "tools" / "bootstrap.py")], stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        for process in runs:
            assert process.stderr is not None
            assert process.stderr.readline() == (
                "setup: another set-up of .venv is running; waiting for it to finish ...\n"
            )
        fcntl.flock(held, fcntl.LOCK_UN)
    outputs = [process.communicate(timeout=300)[1] for process in runs]
    assert [process.returncode for process in runs] == [0, 0]
    assert venv_creations(project) == 1
    assert sum("creating .venv" in output for output in outputs) == 1
