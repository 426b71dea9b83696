# snnc developer entry points. On a fresh machine (system Python only) `make demo` and
# `make test` do all the set-up themselves; set-up is stamped, so re-running is fast.
#
#   make demo                          set up .venv, run scripts/demo.sh
#   make test                          set up both envs, run the whole suite in each
#   make test-main ARGS=tests/x.py     pytest in .venv (Python 3.11, torch), not-lava tests
#   make test-lava ARGS=tests/x.py     pytest in .venv-lava (Python 3.10, lava-nc), lava tests
#   make setup | setup-main | setup-lava | assets | browser   set-up steps on their own
#   make clean-env                     delete both environments and the downloaded assets

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV      ?= .venv
LAVA_VENV ?= .venv-lava
# Extra pytest arguments (files, -k, -x, ...).
ARGS      ?=
# pytest-xdist for whole-suite runs of the main env; off when ARGS picks tests.
XDIST     ?= $(if $(ARGS),,-n 2)
export SNNC_LAVADL_ASSETS ?= $(CURDIR)/.cache/lava-dl/netx
# CI must not write .pytest_cache into the clone.
CI_FLAGS  := $(if $(filter true 1,$(CI)),-p no:cacheprovider)

MAIN_STAMP   := $(VENV)/.snnc-setup-done
LAVA_STAMP   := $(LAVA_VENV)/.snnc-setup-done
ASSETS_STAMP := $(SNNC_LAVADL_ASSETS)/tiny.net

.PHONY: help setup setup-main setup-lava assets browser demo test test-main test-lava clean-env

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

setup: setup-main setup-lava assets browser
setup-main: $(MAIN_STAMP)
setup-lava: $(LAVA_STAMP)
assets: $(ASSETS_STAMP)
# Headless Chromium for the report.html browser test (apt; skipped when already installed).
browser:
	scripts/setup_chromium.sh

$(MAIN_STAMP): pyproject.toml requirements/main.txt scripts/setup_main.sh scripts/lib.sh scripts/check_env.py \
              scripts/build_kernels.py simulators/event/kernels_aot.pyx simulators/loihi_lif.py
	scripts/setup_main.sh $(VENV)
	touch $@

$(LAVA_STAMP): pyproject.toml requirements/lava.txt scripts/setup_lava.sh scripts/lib.sh scripts/check_env.py
	scripts/setup_lava.sh $(LAVA_VENV)
	touch $@

$(ASSETS_STAMP): scripts/fetch_lavadl.sh
	scripts/fetch_lavadl.sh $(SNNC_LAVADL_ASSETS)
	touch $@

demo: setup-main
	VENV=$(VENV) scripts/demo.sh

# Both runs always happen; the exit status is non-zero if either failed.
test: setup
	@main=0; lava=0; \
	$(MAKE) --no-print-directory test-main || main=$$?; \
	$(MAKE) --no-print-directory test-lava || lava=$$?; \
	if [[ $$main -ne 0 ]]; then echo "make test: the main-environment run FAILED (see above)"; fi; \
	exit $$(( main || lava ))

test-main: setup-main assets
	$(if $(XDIST),OMP_NUM_THREADS=1) scripts/run_pytest.sh $(VENV) -m "not lava" $(XDIST) $(CI_FLAGS) $(ARGS)

test-lava: setup-lava assets
	scripts/run_pytest.sh --allow-empty $(LAVA_VENV) -m lava $(CI_FLAGS) $(ARGS)

clean-env:
	rm -rf $(VENV) $(LAVA_VENV) .cache/lava-dl
