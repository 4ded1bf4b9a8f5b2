# Magpie build. Every target runs on a fresh Debian machine with Go installed;
# `make test` is what CI runs.

GO          ?= go
BIN         := bin
TOOLS       := $(CURDIR)/.bin
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X github.com/magpie-ir/magpie/internal/version.Version=$(VERSION)

# Code generators, pinned so that `make generate` is reproducible.
BUF_VERSION              := v1.75.0
PROTOC_GEN_GO_VERSION    := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.0

CROSS_TARGETS := windows/amd64 darwin/arm64 darwin/amd64 linux/amd64 linux/arm64

.PHONY: all build test test-short generate check-generate lint cross demo bench tools clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/magpie-console ./console/cmd/magpie-console
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/magpie-responder ./responder/cmd/magpie-responder
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/magpie ./console/cmd/magpie

# test runs every test with the race detector; the end-to-end tests build the
# binaries themselves.
test: build
	$(GO) test -race -count=1 -timeout 30m ./...

test-short:
	$(GO) test -short -count=1 ./...

$(TOOLS)/buf:
	GOBIN=$(TOOLS) $(GO) install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
$(TOOLS)/protoc-gen-go:
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
$(TOOLS)/protoc-gen-go-grpc:
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)

tools: $(TOOLS)/buf $(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-go-grpc

generate: tools
	$(TOOLS)/buf generate

# check-generate fails when the committed generated code differs from what
# the pinned generators produce.
check-generate: generate
	@git diff --exit-code -- proto || { echo "generated code is stale: run 'make generate' and commit the result" >&2; exit 1; }

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed on:" >&2; echo "$$out" >&2; exit 1; fi
	$(GO) vet ./...

cross:
	@for t in $(CROSS_TARGETS); do \
		os=$${t%/*}; arch=$${t#*/}; \
		echo "cross: $$os/$$arch"; \
		GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 $(GO) build -trimpath -o /dev/null ./... || exit 1; \
	done

demo: build
	./deploy/demo.sh

bench: build
	./bench/run.sh

clean:
	rm -rf $(BIN) $(TOOLS)
