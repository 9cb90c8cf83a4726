# vk: `make demo` runs the main job, `make test` the whole suite; both set up .venv first.

PYTHON ?= python3
TORCH_SPEC ?= torch==2.13.0
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
STAMPS := $(VENV)/.stamps
PYTEST_ARGS ?=

OPS_SOURCES := $(shell find packages/vk-ops/csrc packages/vk-ops/src packages/vk-ops/build_meta cmake -type f \
                 -not -path '*/__pycache__/*' 2>/dev/null) packages/vk-ops/CMakeLists.txt packages/vk-ops/pyproject.toml

.PHONY: setup demo test accuracy lint format bench wheels clean

setup: $(STAMPS)/vk-core $(STAMPS)/vk-ops $(STAMPS)/vk-det $(STAMPS)/vk-seg

$(STAMPS)/venv:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "vk needs Python >= 3.10, $(PYTHON) is " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	@mkdir -p $(STAMPS) && touch $@

# torch first, alone, so that no later dependency resolution can pick a different build of it.
$(STAMPS)/torch: $(STAMPS)/venv
	$(PIP) install "$(TORCH_SPEC)"
	$(PIP) install "setuptools>=68" wheel "scikit-build-core>=0.10" ninja "cmake>=3.18" ruff build
	@touch $@

$(STAMPS)/vk-core: $(STAMPS)/torch packages/vk-core/pyproject.toml
	$(PIP) install --no-build-isolation -e "packages/vk-core[test]"
	@touch $@

# vk-ops builds against the installed torch; its build folder persists, so a changed C++ file recompiles
# only that file. A failed build leaves the stamp untouched and stops make with the compiler's error.
$(STAMPS)/vk-ops: $(STAMPS)/torch $(OPS_SOURCES)
	$(PIP) install --no-build-isolation --no-deps -e "packages/vk-ops[test]"
	$(PY) -c 'import vk_ops, sys; info = vk_ops.build_info(); print("vk-ops", info["version"], "kernels loaded:", info["kernels_loaded"]); sys.exit(0 if info["kernels_loaded"] or not info["kernels"] else info["reason"])'
	@touch $@

# vk-ops is order-only: rebuilding its kernels does not reinstall vk-det.
$(STAMPS)/vk-det: $(STAMPS)/vk-core packages/vk-det/pyproject.toml | $(STAMPS)/vk-ops
	$(PIP) install --no-build-isolation -e "packages/vk-det[test]"
	@touch $@

$(STAMPS)/vk-seg: $(STAMPS)/vk-core packages/vk-seg/pyproject.toml
	$(PIP) install --no-build-isolation -e "packages/vk-seg[test]"
	@touch $@

DEMO_ARGS ?=

# The main job: shapes dataset -> RetinaNet-R18 trained for a few minutes on CPU -> COCO evaluation ->
# inference drawings. `make demo DEMO_ARGS=--quick` is a seconds-long smoke run; `python -m vk_core.demo` is the
# engine-only tour (a toy classifier through the Runner).
demo: setup
	$(PY) -m vk_det.demo $(DEMO_ARGS)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# Trainings to the accuracy targets on the shapes data (minutes each on CPU, so not part of `make test`), each
# followed by its training time and its loss and mAP curves (`vk analyze-logs`) in work_dirs/accuracy/<config>/;
# the figures measured are recorded in packages/vk-det/docs/benchmarks.md.
ACCURACY_CONFIGS ?= retinanet/retinanet_r18_fpn_shapes.py faster_rcnn/faster-rcnn_r18_fpn_shapes.py \
                    mask_rcnn/mask-rcnn_r18_fpn_shapes.py
accuracy: setup
	@test -f data/shapes/annotations/instances_val.json || $(PY) -c "from vk_core.testing import make_shapes_dataset as m; m('data/shapes', splits={'train': 400, 'val': 100}, image_size=320, seed=0)"
	@for cfg in $(ACCURACY_CONFIGS); do \
	  echo "== $$cfg"; \
	  wd="work_dirs/accuracy/$$(basename $$cfg .py)"; \
	  $(VENV)/bin/vk train "vk_det::$$cfg" --work-dir "$$wd" || exit 1; \
	  log=$$(ls -t $$wd/*/vis_data/scalars.json | head -1); \
	  $(VENV)/bin/vk analyze-logs cal_train_time "$$log"; \
	  $(VENV)/bin/vk analyze-logs plot_curve "$$log" --keys loss --title "$$(basename $$cfg .py)" --out "$$wd/loss.png"; \
	  keys=coco/bbox_mAP; case $$cfg in mask_rcnn/*) keys="$$keys coco/segm_mAP";; esac; \
	  $(VENV)/bin/vk analyze-logs plot_curve "$$log" --keys $$keys --title "$$(basename $$cfg .py)" --out "$$wd/mAP.png"; \
	done

lint: $(STAMPS)/torch
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMPS)/torch
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# MMEngine is measured beside vk in some benchmarks; it is installed without its dependency tree (which would
# pull opencv-python and a torch of its own choosing), plus the few pure-Python packages it imports.
$(STAMPS)/bench-deps: $(STAMPS)/torch
	$(PIP) install --no-deps "mmengine==0.10.7" addict yapf termcolor platformdirs
	@touch $@

bench: setup $(STAMPS)/bench-deps
	$(PY) tests/benchmarks/run.py $(BENCH)

wheels: setup
	rm -rf dist && mkdir -p dist
	$(PY) -m pip wheel --no-build-isolation --no-deps -w dist packages/vk-core packages/vk-det packages/vk-seg
	bash ci/build_ops_wheels.sh cpu
	@ls -1 dist

clean:
	rm -rf $(VENV) dist bench-results packages/vk-ops/build
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -name '*.egg-info' -type d -prune -exec rm -rf {} +
