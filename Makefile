# steer: build, test and demo. Every target that needs system packages runs
# `deps` first, so a fresh Debian 12 machine needs only `make test` / `make demo`.

GO      ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
BUILD   := build
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
STAMP   := $(BUILD)/.deps-ok

# C sources of the fast path, checked on their own with strict warnings.
# (= not :=: pkg-config must run after `deps` has installed libdpdk-dev.)
CSRC    := $(wildcard cgo/*/*.c)
CFLAGS_LINT = -Wall -Wextra -Werror -Wno-unused-parameter -O2 $(shell pkg-config --cflags libdpdk 2>/dev/null)

export PATH := $(dir $(GO)):$(PATH)

.PHONY: all deps build test unit e2e lint demo clean bench

all: build

# Installing packages is idempotent and quick when done; the stamp only
# saves re-running dpkg queries within one tree.
deps: $(STAMP)
$(STAMP): scripts/deps.sh go.mod
	bash scripts/deps.sh
	@mkdir -p $(BUILD) && touch $@

build: $(STAMP)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BUILD)/steer ./cmd/steer
	$(GO) build -o $(BUILD)/steer-trafgen ./cmd/steer-trafgen
	CGO_ENABLED=0 $(GO) build -o $(BUILD)/steer-bench ./cmd/steer-bench

# The control plane builds and tests without cgo (and so without libdpdk):
# every package but the router, which drives DPDK, the bindings in cgo/ and
# the e2e suite, which runs the binary.
PURE = $$($(GO) list ./pkg/... ./cmd/steer-bench ./test/testbed | grep -v '/pkg/router$$')

# Every test: unit tests of each package (C helpers through cgo wrappers,
# config rules, the route table, EAL-using packages), the control plane
# again without cgo, and the end-to-end suite that runs the real binary on
# net_pcap and net_tap ports. Needs root for DPDK.
# STEER_BIN: the e2e suite tests the binary just built, not a copy of its own.
test: build lint
	CGO_ENABLED=0 $(GO) test -count=1 $(PURE)
	STEER_BIN=$(CURDIR)/$(BUILD)/steer $(GO) test -count=1 ./...

unit: $(STAMP)
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /test)

e2e: build
	STEER_BIN=$(CURDIR)/$(BUILD)/steer $(GO) test -count=1 -v ./test/

lint: $(STAMP)
	@out=$$(gofmt -l cmd pkg cgo test); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) vet $(PURE)
	@for f in $(CSRC); do echo "cc -Wall -Wextra -Werror $$f"; \
		cc $(CFLAGS_LINT) -I$$(dirname $$f) -c $$f -o /dev/null || exit 1; done

demo: build
	bash scripts/demo.sh

# Benchmark (docs/BENCH.md): testpmd, l3fwd and steer on the same pcap traffic,
# one table and build/bench/results.json. Needs root; takes ~14 minutes
# (BENCH_SECONDS=3 BENCH_REPEAT=1 for a quick look). CI never runs it.
bench: build
	bash scripts/bench/bench.sh

clean:
	rm -rf $(BUILD)
