# sidequeue: NSQ-compatible messaging, native to Kubernetes.
GO      ?= go
BIN     := $(CURDIR)/bin
# Every module in the repository: the product, and the benchmark module that
# keeps upstream NSQ code out of the product's go.mod.
MODULES := . test/bench

.PHONY: all build test unit lint bench-diskqueue fuzz-diskqueue clean

all: build

## build: compile every binary into bin/ (none yet besides the libraries)
build:
	@mkdir -p $(BIN)
	$(GO) build ./...

## test: everything CI runs: lint, then every test with the race detector
test: lint unit

unit:
	$(GO) test -race -count=1 ./...

## lint: go vet and gofmt over every module
lint:
	@for m in $(MODULES); do (cd $$m && $(GO) vet ./...) || exit 1; done
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then \
		echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## bench-diskqueue: ours vs go-diskqueue v1.1.0, medians of 5 runs (about 3 minutes)
bench-diskqueue:
	cd test/bench && $(GO) run ./cmd/bench-diskqueue $(BENCH_FLAGS)

## fuzz-diskqueue: fuzz recovery from damaged files (FUZZTIME, default 60s)
FUZZTIME ?= 60s
fuzz-diskqueue:
	$(GO) test -run '^$$' -fuzz FuzzRecovery -fuzztime $(FUZZTIME) ./sidecar/diskqueue/

clean:
	rm -rf $(BIN)
