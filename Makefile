# mediaseal — the two commands a newcomer needs: `make run` and `make test`.
GO      ?= go
BIN     := bin
TOOLS   := $(CURDIR)/.tools/bin
export PATH := $(TOOLS):$(PATH)

# Every fuzz target in the tree (func FuzzXxx in a _test.go file) runs
# briefly on every `make test`, seeded from its corpus and testdata.
FUZZTIME ?= 5s

.PHONY: all build run demo test unit fuzz deps vet bench clean

all: build

build:
	$(GO) build -o $(BIN)/mediaseal ./cmd/mediaseal

## run: the gateway with the embedded default config (data under ./var)
run: build
	$(BIN)/mediaseal serve

## demo: record a generated 5-second two-track call and export it as stereo WAV
demo: build
	@bash scripts/demo.sh

## deps: install what the tests need (Debian packages when missing, Go tools into .tools/)
deps:
	@bash scripts/install-deps.sh

# vet with -race: the same build configuration as `unit`, so vet compiles
# every dependency once, into the cache `go test -race` then reuses (plain
# `go vet` compiles the whole graph a second time: ~5 min on a cold CI
# cache). Only storage/seal's tests have race/!race files (one constant).
vet:
	$(GO) vet -race ./...

## test: every test, with the race detector, then a short fuzz of every parser
# build before unit: the bench and gateway process tests `go build
# ./cmd/mediaseal` themselves; with the binary's packages already in the
# cache they only link, instead of two test binaries compiling the same
# graph at once while timing-sensitive tests run beside them.
test: deps vet build unit fuzz

# Test binaries are linked without DWARF (-w): nothing in a test run reads
# it (race reports and panics symbolize from the runtime's own tables), and
# it is a third of each link, over seventy test binaries and every fuzz
# target.
TESTLDFLAGS ?= -ldflags=-w

# The allocation tests run once more without -race: the race detector
# makes sync.Pool drop buffers on purpose, so under it they skip.
unit:
	$(GO) test -race $(TESTLDFLAGS) -timeout 25m ./...
	$(GO) test $(TESTLDFLAGS) -run 'ZeroAlloc' ./storage/seal/

fuzz:
	@set -e; grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . | grep -v '^./bench/peers/sealpeer/' | sort | \
	while read -r f; do \
		pkg=./$$(dirname $${f#./}); \
		for fn in $$(grep -oE '^func Fuzz[A-Za-z0-9_]*' $$f | cut -d' ' -f2); do \
			echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
			out=$$($(GO) test $(TESTLDFLAGS) -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 50x $$pkg 2>&1) && rc=0 || rc=$$?; \
			printf '%s\n' "$$out"; \
			if [ $$rc -ne 0 ]; then \
				if printf '%s\n' "$$out" | grep -A1 "^--- FAIL: $$fn " | grep -qx '    context deadline exceeded' && \
					! printf '%s\n' "$$out" | grep -q 'Failing input written'; then \
					echo "fuzz $$pkg $$fn: no failing input; the bare 'context deadline exceeded' is the -fuzztime race in Go's fuzz coordinator (golang/go#75804, fixed in Go 1.27): ignored" >&2; \
				else exit $$rc; fi; \
			fi; \
		done; \
	done

## bench: the format's benchmarks (raw AES-GCM baseline in the same run)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./storage/seal/

clean:
	rm -rf $(BIN) var
