#!/usr/bin/env bash
# Builds vk-ops wheels for rows of ci/ops_matrix.yaml into dist/ and checks each one in a fresh venv.
#
#   bash ci/build_ops_wheels.sh ROW [ROW ...]        (rows: python ci/ops_matrix.py --list)
#
# Environment: VK_PYTHON (default .venv/bin/python: the interpreter whose torch the `cpu` row builds against),
# VK_DIST (default dist/), CUDA_HOME (toolkit for CUDA rows when the row does not name one).
#
# Each wheel is built with its own CMake build folder (packages/vk-ops/build/wheel-<tag>-<row>), never the
# editable install's, then installed into a fresh venv under ci/.envs/check-<row>. That venv sees torch and
# numpy through a .pth file pointing at a folder of symlinks to the build environment's site-packages entries
# (everything except vk packages), so nothing multi-gigabyte is copied or downloaded and the wheel, not the
# source tree, is what gets imported.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${VK_PYTHON:-$ROOT/.venv/bin/python}"
DIST="${VK_DIST:-$ROOT/dist}"
ENVS="$ROOT/ci/.envs"

if [ "$#" -lt 1 ]; then
  echo "usage: bash ci/build_ops_wheels.sh ROW [ROW ...]; rows:" >&2
  "$PY" "$ROOT/ci/ops_matrix.py" --list >&2
  exit 2
fi
mkdir -p "$DIST" "$ENVS"

site_packages() { "$1" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'; }

build_env_for() {  # prints the python to build ROW with
  local row="$1"
  if [ "$ROW_TORCH" = "current" ]; then
    echo "$PY"
    return
  fi
  local venv="$ENVS/build-$row"
  if [ ! -x "$venv/bin/python" ]; then
    "$PY" -m venv "$venv" >&2
    "$venv/bin/python" -m pip install -q --upgrade pip >&2
    "$venv/bin/python" -m pip install -q "torch==$ROW_TORCH" --index-url "$ROW_INDEX_URL" >&2
    "$venv/bin/python" -m pip install -q numpy pyyaml "scikit-build-core>=0.10" ninja "cmake>=3.18" >&2
  fi
  echo "$venv/bin/python"
}

for row in "$@"; do
  echo "== vk-ops wheel: row $row"
  eval "$("$PY" "$ROOT/ci/ops_matrix.py" "$row")"
  build_py="$(build_env_for "$row")"
  torch_version="$("$build_py" -c 'import torch; print(torch.__version__)')"
  if [ -n "$ROW_CUDA" ]; then
    cuda_home="${ROW_CUDA_HOME:-${CUDA_HOME:-/usr/local/cuda-$ROW_CUDA}}"
    if [ ! -x "$cuda_home/bin/nvcc" ]; then
      echo "row $row needs the CUDA $ROW_CUDA toolkit: no nvcc at $cuda_home/bin/nvcc (set CUDA_HOME)" >&2
      exit 1
    fi
    export CUDA_HOME="$cuda_home" CUDACXX="$cuda_home/bin/nvcc" TORCH_CUDA_ARCH_LIST="$ROW_ARCHS" VK_OPS_CUDA=ON
    expect_tag="cu${ROW_CUDA//./}"
  else
    export VK_OPS_CUDA=OFF
    expect_tag="cpu"
  fi
  echo "   torch $torch_version, expecting local tag +$expect_tag"
  before="$(ls "$DIST" 2>/dev/null | sort)"
  start=$(date +%s)
  "$build_py" -m pip wheel -q --no-build-isolation --no-deps -w "$DIST" \
    --config-settings=build-dir="build/wheel-{wheel_tag}-$row" "$ROOT/packages/vk-ops"
  echo "   built in $(( $(date +%s) - start )) s"
  wheel="$(comm -13 <(echo "$before") <(ls "$DIST" | sort) | grep '^vk_ops-' | tail -n 1 || true)"
  if [ -z "$wheel" ]; then  # rebuilt an identical file name: take the newest one for this tag
    wheel="$(ls -t "$DIST" | grep "^vk_ops-.*+$expect_tag-" | head -n 1)"
  fi
  case "$wheel" in
    *"+$expect_tag-"*) ;;
    *) echo "built $wheel, expected a +$expect_tag wheel" >&2; exit 1 ;;
  esac
  echo "   $DIST/$wheel"

  check="$ENVS/check-$row"
  rm -rf "$check"
  "$build_py" -m venv "$check"
  host="$check/host-site"
  mkdir -p "$host"
  for entry in "$(site_packages "$build_py")"/*; do
    name="$(basename "$entry")"
    case "$name" in
      vk_* | vk-* | _editable* | __editable__* | *.pth | pip | pip-* | __pycache__) continue ;;
    esac
    ln -s "$entry" "$host/$name"
  done
  echo "$host" > "$(site_packages "$check/bin/python")/vk-check-host-site.pth"
  "$check/bin/python" -m pip install -q --no-deps --no-index "$DIST/$wheel"
  (cd "$check" && "$check/bin/python" "$ROOT/ci/check_ops_wheel.py" --expect-tag "$expect_tag")
done
