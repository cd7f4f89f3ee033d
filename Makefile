# Mail Setup Assistant. `make run` opens the window, `make test` runs every test.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
BIN     := bin/mailsetup
# no_emoji: the window shows no emoji, and Fyne's bundled emoji font costs ~4 MB of
# binary and ~17 MB of memory once parsed (docs/PERFORMANCE.md). dist.sh uses it too.
TAGS    := no_emoji

.PHONY: deps deps-run build run demo test check unit smoke fuzz bench dist clean providers windows-smoke

# deps-run: what building and running needs; deps: also what the tests need.
deps-run:
	@scripts/install-deps.sh run

deps:
	@scripts/install-deps.sh test

build: deps-run
	$(GO) build -tags $(TAGS) -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mailsetup

run: build
	./$(BIN)

demo: build
	./$(BIN) --demo

# check: formatting, vet and the package boundaries (detect/export/cli never import Fyne;
# gui never imports the network or the mail libraries).
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	@scripts/check-boundaries.sh

unit:
	$(GO) test -race -shuffle=on -timeout 20m ./...

# smoke: the real binary under Xvfb, screenshots into docs/screenshots.
smoke: build
	scripts/smoke-gui.sh $(BIN)

test: deps check unit smoke

dist: deps
	VERSION=$(VERSION) scripts/dist.sh

# bench: the timing table (engine vs slowest chain, sequential and Thunderbird-style
# baselines, behind a 50 ms round-trip proxy), the batch's throughput (client lists
# against single checks one after another, in-process and real Postfix/Dovecot) and the
# Go benchmarks of the pure functions.
bench:
	BENCH=1 $(GO) test -count=1 -run '^TestBenchTable$$' -v ./detect | grep -v '^[=-]\{3\}'
	BENCH=1 $(GO) test -count=1 -timeout 30m -run '^(TestBatchBench|TestBatchBenchRealServers)$$' -v ./batch | grep -v '^[=-]\{3\}'
	$(GO) test -run '^$$' -bench . -benchmem ./detect ./export

# fuzz: each fuzz target for FUZZTIME (default 1m); `make test` runs their seed corpora.
FUZZTIME ?= 1m
fuzz:
	$(GO) test ./detect -run '^$$' -fuzz '^FuzzParseAddress$$' -fuzztime $(FUZZTIME)
	$(GO) test ./detect -run '^$$' -fuzz '^FuzzParseClientConfig$$' -fuzztime $(FUZZTIME)
	$(GO) test ./detect -run '^$$' -fuzz '^FuzzLoadProviders$$' -fuzztime $(FUZZTIME)
	$(GO) test ./detect -run '^$$' -fuzz '^FuzzParseEHLO$$' -fuzztime $(FUZZTIME)
	$(GO) test ./detect -run '^$$' -fuzz '^FuzzTranscriptSecretMode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./detect/trust -run '^$$' -fuzz '^FuzzDecide$$' -fuzztime $(FUZZTIME)
	$(GO) test ./detect/oauth -run '^$$' -fuzz '^FuzzParseFailure$$' -fuzztime $(FUZZTIME)
	$(GO) test ./clients/thunderbird -run '^$$' -fuzz '^FuzzParsePrefs$$' -fuzztime $(FUZZTIME)
	$(GO) test ./cmd/mailsetup/cli -run '^$$' -fuzz '^FuzzReadReport$$' -fuzztime $(FUZZTIME)
	$(GO) test ./export -run '^$$' -fuzz '^FuzzAutodiscoverRoundTrip$$' -fuzztime $(FUZZTIME)
	$(GO) test ./detect/knowledge/clientconfig -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./detect/autodiscover -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)

# providers: derive detect/knowledge/ispdb.json from a snapshot of Thunderbird's ISPDB
# (default: shared/data/ispdb beside an ancestor folder; ISPDB=DIR to choose). The
# result is committed; TestGeneratorReproducible checks it against the snapshot.
ISPDB ?=
providers:
	cd detect/knowledge && $(GO) run ./gen $(if $(ISPDB),-ispdb $(abspath $(ISPDB))) -out ispdb.json

clean:
	rm -rf bin dist

# windows-smoke: dist/MailSetup.exe (built if missing or stale) under wine + Xvfb: the
# window and its screenshots, the config directory, and its probe and netcheck reports
# compared with the Linux binary's on the same loopback servers (scripts/windows-smoke.sh).
windows-smoke: deps build
	scripts/windows-smoke.sh $(BIN)
