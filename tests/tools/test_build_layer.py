"""tools/build_layer.py: the drift layer's zip, built offline from a local wheel (pip --no-index --find-links)."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest

from tools import build_layer

WHEEL = "tinydep-1.0-py3-none-any.whl"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def make_wheel(folder: Path) -> Path:
    """A pure-Python wheel written by hand (the wheel format, PEP 427): one module, one console script."""
    files = {
        "tinydep/__init__.py": b"VALUE = 42\n",
        "tinydep/tool.py": b"def main() -> None:\n    print('tool')\n",
        "tinydep-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: tinydep\nVersion: 1.0\n",
        "tinydep-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
        "tinydep-1.0.dist-info/entry_points.txt": b"[console_scripts]\ntinytool = tinydep.tool:main\n",
    }
    record = "\n".join([*(_record_line(n, d) for n, d in files.items()), "tinydep-1.0.dist-info/RECORD,,", ""])
    path = folder / WHEEL
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in {**files, "tinydep-1.0.dist-info/RECORD": record.encode()}.items():
            archive.writestr(name, data)
    return path


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    make_wheel(folder)
    return folder


def test_pip_installs_for_fc_python312_on_manylinux_wheels_only() -> None:
    command = build_layer.pip_command(build_layer.REQUIREMENTS, Path("/t"))
    assert command[1:] == [
        "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--no-deps", "--target", "/t", "--only-binary=:all:",
        *(arg for minor in range(31, 16, -1) for arg in ("--platform", f"manylinux_2_{minor}_x86_64")),
        "--platform", "manylinux2014_x86_64",
        "--python-version", "3.12", "--implementation", "cp", "--abi", "cp312",
        "--requirement", str(build_layer.REQUIREMENTS),
    ]  # fmt: skip


def test_the_pins_without_a_wheel_are_built_here_from_their_sdists() -> None:
    command = build_layer.pip_command(build_layer.REQUIREMENTS, Path("/t"), binary=False)
    assert command[1:] == [
        "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--no-deps", "--target", "/t", "--no-binary=:all:", "--requirement", str(build_layer.REQUIREMENTS),
    ]  # fmt: skip
    wheels, sources = build_layer.split_requirements(build_layer.REQUIREMENTS)
    assert sources == ["oss2==2.19.1", "crcmod==1.7"]
    assert wheels[:2] == ["numpy==2.4.6", "scipy==1.17.1"]
    assert len(wheels) == 15


def test_the_layer_pins_start_with_the_images_own() -> None:
    image = (build_layer.REQUIREMENTS.parent / "requirements.txt").read_text(encoding="utf-8")
    pins = [line for line in image.splitlines() if line and not line.startswith("#")]
    wheels, sources = build_layer.split_requirements(build_layer.REQUIREMENTS)
    assert [*wheels[:2], sources[0]] == pins == ["numpy==2.4.6", "scipy==1.17.1", "oss2==2.19.1"]
    assert all("==" in line for line in wheels + sources)  # the whole tree pinned: --no-deps installs only these


def test_what_is_built_here_keeps_its_modules_and_drops_extensions_for_this_interpreter(tmp_path: Path) -> None:
    built, target = tmp_path / "built", tmp_path / "site"
    (built / "crcmod").mkdir(parents=True)
    (built / "crcmod" / "crcmod.py").write_bytes(b"# pure\n")
    (built / "crcmod" / "_crcfunext.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    build_layer.merge_built(built, target)
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == ["crcmod/crcmod.py"]


def test_hashes_in_the_requirements_make_pip_require_them(tmp_path: Path) -> None:
    pinned = tmp_path / "requirements.txt"
    pinned.write_text("tinydep==1.0 --hash=sha256:" + "0" * 64 + "\n", encoding="utf-8")
    assert "--require-hashes" in build_layer.pip_command(pinned, tmp_path / "t")


def test_the_zip_holds_the_packages_under_python_without_scripts_or_byte_code(tmp_path: Path, wheels: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tinydep==1.0\n", encoding="utf-8")
    out = tmp_path / "layer.zip"
    digest = build_layer.build(requirements, out, find_links=[wheels], no_index=True)
    assert digest == hashlib.sha256(out.read_bytes()).hexdigest()
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        infos = archive.infolist()
        assert archive.read("python/tinydep/__init__.py") == b"VALUE = 42\n"
    assert names == sorted(names)
    assert [n for n in names if not n.startswith("python/tinydep-1.0.dist-info/")] == [
        "python/tinydep/__init__.py",
        "python/tinydep/tool.py",
    ]
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}


def test_the_same_requirements_give_the_same_bytes(tmp_path: Path, wheels: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tinydep==1.0\n", encoding="utf-8")
    first = build_layer.build(requirements, tmp_path / "a.zip", find_links=[wheels], no_index=True)
    second = build_layer.build(requirements, tmp_path / "b.zip", find_links=[wheels], no_index=True)
    assert first == second
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_a_pin_pip_cannot_satisfy_fails_naming_the_platform_and_writes_no_zip(
    tmp_path: Path, wheels: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tinydep==2.0\n", encoding="utf-8")
    out = tmp_path / "layer.zip"
    argv = ["--requirements", str(requirements), "--out", str(out), "--find-links", str(wheels), "--no-index"]
    assert build_layer.main(argv) == 1
    assert not out.exists()
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"error: pip could not install {requirements} for manylinux_2_31_x86_64 / CPython 3.12 (exit 1, output "
        "above): each pin needs a binary wheel for that platform, or a pure-Python sdist listed in "
        "tools/build_layer.py FROM_SOURCE"
    )


def test_main_prints_the_digest_and_the_zip(tmp_path: Path, wheels: Path, capsys: pytest.CaptureFixture[str]) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tinydep==1.0\n", encoding="utf-8")
    out = tmp_path / "layer.zip"
    argv = ["--requirements", str(requirements), "--out", str(out), "--find-links", str(wheels), "--no-index"]
    assert build_layer.main(argv) == 0
    assert capsys.readouterr().out == f"{hashlib.sha256(out.read_bytes()).hexdigest()}  {out}\n"
