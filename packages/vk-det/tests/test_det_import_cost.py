import subprocess
import sys


def _imported_modules(code: str) -> list[str]:
    """Module names imported by ``code`` in a fresh interpreter, from ``-X importtime``."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    names = []
    for line in out.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.append(line.rsplit("|", 1)[1].strip())
    assert names, "python -X importtime printed nothing"
    return names


def test_import_vk_det_imports_no_model_module():
    names = _imported_modules("import vk_det")
    assert "vk_det" in names
    assert [n for n in names if n.startswith("vk_det.models")] == []


def test_import_vk_det_registry_imports_no_model_module():
    names = _imported_modules("import vk_det.registry")
    assert "vk_det.registry" in names and "vk_core.registry" in names
    heavy = [n for n in names if n.startswith(("vk_det.models", "vk_det.datasets", "vk_det.transforms", "torch"))]
    assert heavy == []
