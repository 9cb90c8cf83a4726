"""The repository's build contract: idempotent setup, loud C++ failures, vk-core installable alone."""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STAMPS = REPO / ".venv" / ".stamps"
needs_make_setup = pytest.mark.skipif(
    not (STAMPS / "vk-ops").exists() or shutil.which("make") is None,
    reason="run through `make test` (needs make setup)",
)


def _make(*args):
    return subprocess.run(["make", "-C", str(REPO), *args], capture_output=True, text=True)


@needs_make_setup
def test_setup_is_up_to_date_after_setup():
    # `make -q` exits 0 only when no recipe would run: a second `make setup` does nothing.
    assert _make("-q", "setup").returncode == 0, _make("-n", "setup").stdout


@needs_make_setup
def test_changed_cpp_file_rebuilds_only_vk_ops():
    plan = _make("-n", "-W", "packages/vk-ops/csrc/cpu/bbox_overlaps.cpp", "setup").stdout
    assert "packages/vk-ops" in plan
    for other in ("packages/vk-core", "packages/vk-det", "packages/vk-seg"):
        assert other not in plan, plan


def _site_packages_without_vk(tmp_path: Path) -> Path:
    """A folder of links to this environment's third-party packages, minus every vk package."""
    site = Path(sysconfig.get_paths()["purelib"])
    links = tmp_path / "deps"
    links.mkdir()
    for entry in site.iterdir():
        name = entry.name.lstrip("_").lower()
        if name.startswith(("vk", "editable")) or entry.suffix == ".pth":
            continue
        (links / entry.name).symlink_to(entry)
    return links


@pytest.mark.slow
def test_vk_core_installs_alone_into_a_fresh_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    new_site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # torch, pip, setuptools and the other dependencies come from this environment, read-only: nothing is
    # downloaded and no vk package is visible.
    Path(new_site, "vk_test_deps.pth").write_text(str(_site_packages_without_vk(tmp_path)) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    install = subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--no-build-isolation",
            str(REPO / "packages" / "vk-core"),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    check = subprocess.run(
        [
            python,
            "-c",
            "import sys, vk_core, vk_core.cli.main; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'vk_ops', 'vk_det', 'vk_seg'}))",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == "[]"
    version = subprocess.run([venv / "bin" / "vk", "--version"], capture_output=True, text=True, env=env)
    assert version.stdout.strip().startswith("vk-core ")


@pytest.mark.slow
def test_broken_cpp_fails_the_build_with_the_compiler_error(tmp_path):
    # A copy of vk-ops (and the shared cmake/ modules) with a syntax error in one kernel.
    shutil.copytree(REPO / "cmake", tmp_path / "cmake")
    pkg = tmp_path / "packages" / "vk-ops"
    shutil.copytree(REPO / "packages" / "vk-ops", pkg, ignore=shutil.ignore_patterns("build", "*.so", "__pycache__"))
    broken = pkg / "csrc" / "cpu" / "bbox_overlaps.cpp"
    broken.write_text(broken.read_text() + "\nthis is not C++;\n")
    env = dict(os.environ, VK_OPS_CUDA="OFF")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-build-isolation",
            "--no-deps",
            "-w",
            str(tmp_path / "dist"),
            str(pkg),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "bbox_overlaps.cpp" in output and "error" in output
    assert not list((tmp_path / "dist").glob("*.whl")) if (tmp_path / "dist").exists() else True


@needs_make_setup
def test_vk_ops_sdist_carries_the_cmake_modules_and_no_build_outputs(tmp_path):
    import tarfile

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--sdist",
            "--no-isolation",
            "-o",
            str(tmp_path),
            str(REPO / "packages/vk-ops"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (sdist,) = tmp_path.glob("vk_ops-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = [name.split("/", 1)[1] for name in tar.getnames() if "/" in name]
    # Outside the repository CMakeLists.txt falls back to the package's cmake/ folder.
    assert {"cmake/VkTorch.cmake", "cmake/VkCompilerFlags.cmake", "cmake/VkCudaArch.cmake"} <= set(names)
    assert "CMakeLists.txt" in names and any(n.startswith("csrc/cpu/") for n in names)
    assert not [n for n in names if n.startswith("build/") or n.endswith((".o", ".so"))]
