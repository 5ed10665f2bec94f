# mediaseal — the two commands a newcomer needs: `make run` and `make test`.
GO      ?= go
BIN     := bin
TOOLS   := $(CURDIR)/.tools/bin
export PATH := $(TOOLS):$(PATH)

# Fuzz targets run briefly on every `make test` (seeded from testdata).
FUZZTIME ?= 5s
FUZZ_TARGETS := \
	./storage/seal:FuzzParseHeader \
	./storage/seal:FuzzReader \
	./media:FuzzValidRTP \
	./media:FuzzSessionRequest \
	./media/export:FuzzTimeline \
	./media/siprec:FuzzMetadata \
	./media/siprec:FuzzSplitBody \
	./media/siprec:FuzzSDP \
	./kms/local:FuzzUnwrap \
	./internal/config:FuzzParse \
	./internal/api:FuzzWriteBodies

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

vet:
	$(GO) vet ./...

## test: every test, with the race detector, then a short fuzz of every parser
test: deps vet unit fuzz

unit:
	$(GO) test -race -timeout 25m ./...

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		if grep -qs "func $$fn(" $$pkg/*_test.go; then \
			echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 50x $$pkg; \
		else echo "fuzz target $$fn missing in $$pkg" >&2; exit 1; fi; \
	done

## bench: the format's benchmarks (raw AES-GCM baseline in the same run)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./storage/seal/

clean:
	rm -rf $(BIN) var
