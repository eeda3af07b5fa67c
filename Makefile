# rast — build, test, demo, benchmarks. Everything runs as root (loop mounts).
# CARGO_TARGET_DIR is honoured when set (CI keeps it between runs).
CARGO ?= cargo
export CARGO_TARGET_DIR ?= $(CURDIR)/target
# The local S3/Azure/GCS servers the backup tests start (scripts/setup-test-servers).
export RAST_TEST_SERVERS ?= $(CARGO_TARGET_DIR)/test-servers
NEXTEST := $(shell command -v cargo-nextest 2>/dev/null)

.PHONY: all deps test-deps build demo test test-slow test-boot package-check lint fuzz-smoke bench bench-search bench-agent nl-eval intent-model clean-sandbox

all: build

deps:
	scripts/setup-deps
	scripts/fetch-model

## deps + the object-store servers for the backup tests.
test-deps: deps
	scripts/setup-test-servers

build: deps
	$(CARGO) build --workspace --all-targets

## The main job on embedded defaults: a loop-mounted btrfs under ./sandbox.
demo: deps
	$(CARGO) build -p rast
	scripts/demo

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	# The libalpm 16 (current Arch) flavour must keep compiling; no libalpm 16 here to link.
	$(CARGO) check -p rast-snapshot --no-default-features --features alpm16-typecheck

## Every test (unit + end-to-end on real btrfs and pacman).
test: build test-deps lint
ifdef NEXTEST
	$(CARGO) nextest run --workspace --no-fail-fast
else
	$(CARGO) test --workspace --no-fail-fast
endif

## Build the Arch packages with makepkg, install into a scratch root, check them.
package-check:
	packaging/arch/check-package

## The whole boot matrix in QEMU (BIOS + GRUB, UEFI + systemd-boot, deploy inside the
## VM and from outside, failed-boot fallback); `make test` runs the smoke part of it.
test-boot: build test-deps
	tests/boot/run-matrix

## Short coverage-guided fuzz runs of the planner and parsers (needs nightly; skips without).
fuzz-smoke:
	scripts/fuzz-smoke 20

## The slow suite too (long crash trials).
test-slow: build test-deps
ifdef NEXTEST
	$(CARGO) nextest run --workspace --no-fail-fast --run-ignored all
else
	$(CARGO) test --workspace --no-fail-fast -- --include-ignored
endif

bench: deps
	$(CARGO) build --release -p rast
	bench/tree-bench

bench-search: deps
	bench/search-bench

bench-agent: deps
	bench/agent-bench

## The planner's score on the dev set, the corpus's validation split and the fixtures,
## with a per-kind confusion table (goal: >= 95 % on each).
NL_INDEX := $(CARGO_TARGET_DIR)/nl-eval-index-etc
nl-eval: deps
	$(CARGO) build --release -p rast -p rast-agent --examples
	test -f $(NL_INDEX)/config-files.json || $(CARGO_TARGET_DIR)/release/rast index build --etc tests/data/etc-arch-laptop \
	  --index-dir $(NL_INDEX) --sync-dbs tests/data/arch-2022/core.db.tar.gz \
	  tests/data/arch-2022/extra.db.tar.gz tests/data/arch-2022/multilib.db.tar.gz
	$(CARGO_TARGET_DIR)/release/examples/nl_eval --quiet --min 0.95 --index-dir $(NL_INDEX) \
	  tests/data/nl-eval/dev.jsonl agent/corpus/generated.jsonl:val,agent/corpus/written.jsonl:val \
	  agent/tests/fixtures/nl-extra.jsonl agent/tests/fixtures/nl-heldout.jsonl

## Rebuilds agent/data/intent.bin from agent/corpus (then run nl-eval and commit both).
intent-model: deps
	scripts/build-intent-model

clean-sandbox:
	-umount sandbox/mnt 2>/dev/null
	rm -rf sandbox
