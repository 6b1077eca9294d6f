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
#   make fuzz-long  every fuzz target FUZZ_LONG_SECONDS (3600) each, FUZZ_JOBS at once;
#                   summary in $(FUZZ_BUILD)/fuzz-results/summary.txt
#   make images     build + check the container images (buildah, no registry)
#   make test-system  Debian 12 + systemd guest: the .debs install and start a node
#   make bench-mysql  MariaDB + sysbench on local / slio-tgt / nvmet volumes (VM)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_LONG_SECONDS ?= 3600
FUZZ_JOBS ?= 1
# seconds one integration test may take before the run stops, printing its stacks
TEST_TIMEOUT ?= 600
VM_SCENARIOS ?= lvm nvmet tgt agent csi auth
PYTHON := /usr/bin/python3
ABS_BUILD = $(abspath $(BUILD))
# The guest kernel + base initramfs do not depend on our build: one cache for all builds.
VM_OUT ?= $(CURDIR)/build/vm
# Scenarios with a "# vm-kernel: bpo" line (auth: NVMe DH-HMAC-CHAP needs 6.12) boot Debian's
# bookworm-backports kernel in a second VM, cached in VM_BPO_OUT (tests/vm/README.md).
VM_BPO_OUT ?= $(CURDIR)/build/vm-bpo
vm_bpo = $(filter $(VM_SCENARIOS),$(basename $(notdir $(shell grep -l '^.[ ]vm-kernel: bpo$$' tests/vm/scenarios/*.sh))))
vm_stock = $(filter-out $(vm_bpo),$(VM_SCENARIOS))
DEB_OUT ?= $(BUILD)/debs

.PHONY: all build deps test unit integration vm demo demo-stop sanitize fuzz fuzz-long check-style check-deploy deb images test-system bench-mysql clean

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
	SLIO_BUILD=$(ABS_BUILD) $(PYTHON) -m pytest -q -p timeout --timeout=$(TEST_TIMEOUT) \
	    --timeout-method=thread --durations=10 tests/integration

vm: build
	@rc=0; \
	if [ -n "$(vm_stock)" ]; then \
	    SLIO_BUILD=$(ABS_BUILD) VM_OUT=$(VM_OUT) tests/vm/build && \
	    SLIO_BUILD=$(ABS_BUILD) VM_OUT=$(VM_OUT) tests/vm/run $(vm_stock) || rc=1; \
	fi; \
	if [ -n "$(vm_bpo)" ]; then \
	    SLIO_BUILD=$(ABS_BUILD) VM_KERNEL=bpo VM_OUT=$(VM_BPO_OUT) tests/vm/build && \
	    SLIO_BUILD=$(ABS_BUILD) VM_KERNEL=bpo VM_OUT=$(VM_BPO_OUT) tests/vm/run $(vm_bpo) || rc=1; \
	fi; \
	exit $$rc

test: unit integration vm
	@echo "make test: unit, integration and VM tests passed ($(BUILD))"

sanitize:
	$(MAKE) BUILD=$(ASAN_BUILD) MESON_ARGS="-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug" test

fuzz: deps
	test -f $(FUZZ_BUILD)/build.ninja || CC=clang meson setup -Dfuzz=true \
	    -Db_sanitize=address,undefined -Db_lundef=false $(FUZZ_BUILD)
	ninja -C $(FUZZ_BUILD)
	tools/run-fuzzers $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz-long: deps
	test -f $(FUZZ_BUILD)/build.ninja || CC=clang meson setup -Dfuzz=true \
	    -Db_sanitize=address,undefined -Db_lundef=false $(FUZZ_BUILD)
	ninja -C $(FUZZ_BUILD)
	tools/run-fuzzers --long --jobs $(FUZZ_JOBS) $(FUZZ_BUILD) $(FUZZ_LONG_SECONDS)

images: deb
	deploy/images/build $(BUILD) $(DEB_OUT)

test-system: deb
	VM_OUT=$(VM_OUT) DEB_OUT=$(abspath $(DEB_OUT)) tests/vm/system/build
	VM_OUT=$(VM_OUT) DEB_OUT=$(abspath $(DEB_OUT)) tests/vm/system/run deb-install

bench-mysql: deb
	VM_OUT=$(VM_OUT) DEB_OUT=$(abspath $(DEB_OUT)) bench/mysql/run

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
