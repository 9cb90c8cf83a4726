"""CUDA code must not rot on machines without a GPU: compile every csrc/cuda/*.cu to an object against the
installed torch headers (CMake option VK_OPS_CUDA_SYNTAX_CHECK=ON, target vk_ops_cuda_check)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]


def _nvcc() -> str | None:
    found = shutil.which("nvcc")
    if found:
        return found
    home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH") or "/usr/local/cuda"
    candidate = Path(home) / "bin" / "nvcc"
    return str(candidate) if candidate.exists() else None


@pytest.mark.slow
def test_every_cu_file_compiles(tmp_path):
    nvcc = _nvcc()
    if nvcc is None:
        pytest.skip("nvcc not found (set CUDA_HOME or put nvcc on PATH)")
    if shutil.which("cmake") is None or shutil.which("ninja") is None:
        pytest.skip("cmake and ninja are needed for the CUDA syntax check")
    sources = sorted((PACKAGE / "csrc" / "cuda").glob("*.cu"))
    assert sources, "no CUDA sources found"
    env = dict(os.environ, CUDACXX=nvcc)
    env.pop("TORCH_CUDA_ARCH_LIST", None)  # one architecture is enough to check
    configure = subprocess.run(
        ["cmake", "-S", str(PACKAGE), "-B", str(tmp_path), "-G", "Ninja", "-DVK_OPS_CUDA_SYNTAX_CHECK=ON",
         f"-DPython_EXECUTABLE={sys.executable}", "-DCMAKE_BUILD_TYPE=Release"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert configure.returncode == 0, configure.stdout[-3000:] + configure.stderr[-3000:]
    build = subprocess.run(
        ["cmake", "--build", str(tmp_path), "--target", "vk_ops_cuda_check", "-j", str(os.cpu_count() or 2)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-6000:] + build.stderr[-3000:]
    objects = {p.name for p in tmp_path.rglob("*.cu.o")}
    assert objects == {f"{s.name}.o" for s in sources}
