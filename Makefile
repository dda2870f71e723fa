GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run build test test-race bench lint clean

## run: start API + worker + scheduler on an embedded Redis, email to ./var/outbox
## (invoiced dev is only in a binary built with -tags dev)
run:
	$(GO) run -tags dev ./cmd/invoiced dev

## build: the invoiced binary in ./bin
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/invoiced ./cmd/invoiced

## test: every test, against a real redis-server, SMTP server, pdftotext and qpdf
test:
	$(GO) test -count=1 -timeout 20m ./...
	cd third_party/gopdf && $(GO) test -count=1 ./...
	cd third_party/go-mail && $(GO) test -count=1 ./...

## test-race: the tests under the race detector
test-race:
	$(GO) test -race -count=1 -timeout 30m ./...

## bench: the benchmarks quoted in BENCHMARKS.md
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./money/ ./invoice/ ./render/...
	$(GO) test -run '^$$' -bench 'Send|CreateLink|Msg' -benchtime 2s ./providers/...
	$(GO) test -run '^$$' -bench 'AsynqHop|SendToSent|InvoicesBatch|DurableSend' -benchtime 1x ./internal/e2e/
	$(GO) test -run '^$$' -bench 'QueryPage' ./store/
	$(GO) test -run '^$$' -bench 'EventsWithChange|SendStart' -benchtime 3000x ./store/
	$(GO) test -run '^$$' -bench 'SendRequest' -benchtime 3000x -benchmem ./api/
	$(GO) test -run '^$$' -bench 'MemoryPerInvoice' -benchtime 1x ./internal/e2e/
	$(GO) test -run '^$$' -bench 'Record' -benchmem ./store/
	$(GO) test -run '^$$' -bench 'RetentionYear' -benchtime 1x ./store/
	$(GO) run ./cmd/invoiced-loadtest -bin bin/invoiced -n 3000 -rate 0,1000,50% -concurrency 100

## lint: go vet and staticcheck
lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt -w these:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	cd third_party/gopdf && $(GO) vet ./...
	cd third_party/go-mail && $(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin var
