# SPDX-License-Identifier: Apache-2.0
# Front-end to Meson/ninja and the test stages. See README.md.
#   make            build (build/)
#   make test       install missing deps, build, unit + integration + VM tests
#   make demo       run the product on this machine (DEMO_DETACH=1: return once up;
#                   DEMO_DETACH=0: tear down after printing)
#   make demo-stop  stop a running demo
#   make deps       install the Debian packages (tools/deps.txt)
#   make sanitize   the same tests on an ASan+UBSan build (build-asan/)
#   make fuzz       build the libFuzzer targets and run each FUZZ_SECONDS
#   make check-style
#   make check-deploy  render and validate every deploy/k8s overlay offline
#   make deb        Debian packages into $(DEB_OUT) (default build/debs)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
VM_SCENARIOS ?= lvm nvmet tgt agent csi
PYTHON := /usr/bin/python3
ABS_BUILD = $(abspath $(BUILD))
# The guest kernel + base initramfs do not depend on our build: one cache for all builds.
VM_OUT ?= $(CURDIR)/build/vm
DEB_OUT ?= $(BUILD)/debs

.PHONY: all build deps test unit integration vm demo demo-stop sanitize fuzz check-style check-deploy deb clean

all: build

deps:
	@tools/install-deps

$(BUILD)/build.ninja:
	meson setup $(MESON_ARGS) $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

unit: build
	meson test -C $(BUILD) --print-errorlogs

integration: build
	SLIO_BUILD=$(ABS_BUILD) $(PYTHON) -m pytest -q tests/integration

vm: build
	SLIO_BUILD=$(ABS_BUILD) VM_OUT=$(VM_OUT) tests/vm/build
	SLIO_BUILD=$(ABS_BUILD) VM_OUT=$(VM_OUT) tests/vm/run $(VM_SCENARIOS)

test: unit integration vm
	@echo "make test: unit, integration and VM tests passed ($(BUILD))"

sanitize:
	$(MAKE) BUILD=$(ASAN_BUILD) MESON_ARGS="-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug" test

fuzz: deps
	test -f $(FUZZ_BUILD)/build.ninja || CC=clang meson setup -Dfuzz=true \
	    -Db_sanitize=address,undefined -Db_lundef=false $(FUZZ_BUILD)
	ninja -C $(FUZZ_BUILD)
	tools/run-fuzzers $(FUZZ_BUILD) $(FUZZ_SECONDS)

check-style:
	tools/check-style

check-deploy: build
	$(PYTHON) deploy/check --build $(ABS_BUILD)

deb: build
	$(PYTHON) packaging/build-debs $(BUILD) $(DEB_OUT)

demo: build
	tools/demo $(ABS_BUILD)

demo-stop:
	@tools/demo --stop

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
