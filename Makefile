# sidequeue: NSQ-compatible messaging, native to Kubernetes.
GO      ?= go
BIN     := $(CURDIR)/bin
# Every module in the repository: the product, the benchmark module that
# keeps upstream NSQ code out of the product's go.mod, the image builder
# that keeps go-containerregistry out of it, and the install tests that
# keep Helm and kustomize out of it, and the end-to-end suite, which keeps
# Helm out of it too.
MODULES := . test/bench hack/image test/install test/e2e/cluster

.PHONY: all build test generate manifests chart-sync verify-generated unit test-gonsq test-interop lint bench bench-lookupd bench-diskqueue bench-injection fuzz-diskqueue image test-image test-install upstream k8s-bin cluster-bin cluster-up cluster-down cluster-smoke cluster-test demo test-demo clean help linkcheck e2e-images e2e

all: build

## help: this list: every target with what it does (from the Makefile's ## comments)
help:
	@awk '/^## [a-z0-9-]+:/ { sub(/^## /, ""); split($$0, a, ":"); printf "  %-18s%s\n", a[1], substr($$0, length(a[1]) + 3); next } /^## / { sub(/^## /, ""); printf "  %-18s%s\n", "", $$0 }' $(MAKEFILE_LIST)

# The commit in --version comes from the go command's VCS stamp; auto
# stamps it in a git checkout even where GOFLAGS says -buildvcs=false, and
# builds without it elsewhere (a source tarball).
BUILDVCS := -buildvcs=auto

## build: compile every binary into bin/
build:
	@mkdir -p $(BIN)
	$(GO) build $(BUILDVCS) -o $(BIN)/queued ./cmd/queued
	$(GO) build $(BUILDVCS) -o $(BIN)/lookupd ./cmd/lookupd
	$(GO) build $(BUILDVCS) -o $(BIN)/manager ./cmd/manager

## test: everything CI runs: lint, every test with the race detector,
## go-nsq v1.1.0's own test suite against queued (on ports 4150/4151), interop
## with nsq v1.3.0, the demo's round trip (lookupd on 4160/4161), the image,
## and the chart and kustomize install
test: verify-generated lint unit test-gonsq test-interop test-demo test-image test-install

# controller-gen is pinned by a tool directive in hack/tools/go.mod, a module of
# its own, so the product's go.mod carries none of its dependencies.
CONTROLLER_GEN := $(GO) tool -modfile=$(CURDIR)/hack/tools/go.mod controller-gen

## generate: DeepCopy methods of the API types (api/*/zz_generated.deepcopy.go)
generate:
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...

## manifests: CustomResourceDefinitions into config/crd/bases, the manager's
## ClusterRole (from the controllers' RBAC markers) into config/rbac, and
## both, with config/webhook, into the Helm chart (chart-sync)
manifests:
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=sidequeue-manager paths=./controllers/... output:rbac:artifacts:config=config/rbac
	$(MAKE) --no-print-directory chart-sync

CHART := charts/sidequeue

## chart-sync: the chart's copies of what config/ generates or holds: every
## CRD of config/crd/bases (by glob, so a new kind needs no edit here) into
## crds/ with helm.sh/resource-policy: keep; the RBAC of the markers, the
## webhook configuration and the Grafana dashboard into files/, which the
## templates read
chart-sync:
	@rm -f $(CHART)/crds/*.yaml
	@mkdir -p $(CHART)/crds $(CHART)/files
	@for f in config/crd/bases/*.yaml; do \
		grep -q '^  annotations:$$' $$f || { echo "$$f: no metadata.annotations to add the keep policy to"; exit 1; }; \
		sed '/^  annotations:$$/a\    helm.sh/resource-policy: keep' $$f > $(CHART)/crds/$$(basename $$f) || exit 1; \
	done
	@cp config/rbac/role.yaml $(CHART)/files/role.yaml
	@cp config/webhook/manifests.yaml $(CHART)/files/webhook.yaml
	@cp config/grafana/sidequeue.json $(CHART)/files/dashboard.json

## verify-generated: fail when generated code or manifests are not up to date
verify-generated: manifests generate
	@git diff --exit-code -- api config $(CHART) || { \
		echo "generated files are stale: run 'make manifests generate' and commit"; exit 1; }
	@out=$$(git ls-files --others --exclude-standard -- config/crd config/rbac $(CHART)/crds $(CHART)/files ':(glob)api/**/zz_generated.*'); if [ -n "$$out" ]; then \
		echo "generated files not committed:"; echo "$$out"; exit 1; fi

## unit: every test with the race detector; controllers/ runs envtest on bin/k8s
unit: k8s-bin
	$(GO) test -race -count=1 ./...

## test-gonsq: go-nsq v1.1.0's own test suite against bin/queued (ports 4150/4151)
test-gonsq: build
	QUEUED=$(BIN)/queued hack/gonsq-suite.sh $(GONSQ_ARGS)

## test-interop: our daemons mixed with nsq v1.3.0's binaries, go-nsq and nsqadmin;
## and the benchmarks' own pieces (the null server, medians)
test-interop: build upstream
	cd test/bench && $(GO) test -count=1 ./interop/... ./internal/... ./cmd/bench-queued/

## lint: go vet and gofmt over every module, and the link check
# -tags e2e: the end-to-end suite's files are vetted too (they only build
# with the tag); nothing else carries it.
lint: linkcheck
	@for m in $(MODULES); do (cd $$m && $(GO) vet -tags e2e ./...) || exit 1; done
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then \
		echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## linkcheck: every relative link in README.md, docs/ and the chart's README
## resolves to a file in the repository (hack/linkcheck)
linkcheck:
	@$(GO) run ./hack/linkcheck README.md charts/sidequeue/README.md $$(find docs -name '*.md')

## image: the container image (queued, lookupd, manager) as an OCI tarball in
## bin/image/, without Docker; prints its path and digest. VERSION overrides
## internal/version's Default, PLATFORMS (default linux/amd64) may list
## linux/arm64 too (docs/guide/install.md)
image:
	$(GO) -C hack/image run . $(if $(VERSION),-version $(VERSION)) $(if $(PLATFORMS),-platforms $(PLATFORMS))

## test-image: the image built twice gives one digest, runs as 65532, and
## each binary in it answers --version
test-image:
	$(GO) -C hack/image test -count=1 ./...

## test-install: the Helm chart and config/default rendered (Helm's and
## kustomize's Go code), applied to the envtest API server, installed and
## upgraded with the manager (bin/manager) running as the chart's
## ServiceAccount, its RBAC checked least privilege against the audit log
test-install: build k8s-bin
	cd test/install && MANAGER=$(BIN)/manager $(GO) test -count=1 ./...

## e2e-images: the images the end-to-end suite runs, as tarballs in
## bin/images/, which hack/cluster/up.sh imports: the product's (as make
## image builds it) and sidequeue-e2e (test/e2e/cmd: publisher, consumer)
e2e-images:
	$(GO) -C hack/image run . -dir $(BIN)/images $(if $(VERSION),-version $(VERSION))
	$(GO) -C hack/image run . -image sidequeue-e2e -dir $(BIN)/images $(if $(VERSION),-version $(VERSION))

E2E_KUBECONFIG ?= $(BIN)/cluster/kubeconfig
E2E_LOGS       ?= $(BIN)/e2e-logs
E2E_TIMEOUT    ?= 60m

## e2e: the end-to-end suite (test/e2e/cluster) on a real single-node
## cluster (hack/cluster/up.sh, which builds what it lacks), the chart
## installed with Helm, every scenario counted in messages, then
## hack/cluster/down.sh, also when a test fails or make is interrupted. A
## failed test leaves its namespaces' objects and logs in bin/e2e-logs/.
## E2E_ARGS adds go test flags (e.g. E2E_ARGS='-run TestCluster/(Install|RollingUpdate)')
# The EXIT trap takes the cluster down whatever happens after up.sh starts,
# and fails the target if down.sh leaves something behind;
# INT and TERM exit through it. E2E_CTR is how runtime_test.go kills a
# container: ctr on the cluster's containerd.
e2e: e2e-images
	@rm -rf $(E2E_LOGS)
	@trap 'rc=$$?; $(CURDIR)/hack/cluster/down.sh || rc=1; exit $$rc' EXIT; trap 'exit 130' INT TERM; \
	GO=$(GO) $(CURDIR)/hack/cluster/up.sh || exit 1; \
	cd test/e2e/cluster && E2E_KUBECONFIG=$(E2E_KUBECONFIG) E2E_LOGS=$(E2E_LOGS) $(if $(VERSION),IMAGE_TAG=$(VERSION)) \
		E2E_CTR="ctr --address $(BIN)/cluster/containerd/run/containerd.sock" \
		$(GO) test -tags e2e -count=1 -v -timeout $(E2E_TIMEOUT) ./... $(E2E_ARGS)

## upstream: build nsqd, nsqlookupd and nsqadmin v1.3.0 into bin/upstream/
upstream:
	GO=$(GO) hack/build-upstream-nsq.sh

## k8s-bin: build kube-apiserver, kubectl v1.37.2 and etcd v3.6 into bin/k8s/
## for envtest (KUBEBUILDER_ASSETS=bin/k8s); from the Go module proxy, cached
k8s-bin:
	GO=$(GO) hack/build-k8s.sh

## cluster-bin: build the dev cluster's binaries into bin/cluster-bin/ (kubelet,
## kube-proxy, kube-controller-manager, kube-scheduler, CoreDNS, a volume
## provisioner, the pause image) and bin/k8s/; cached like k8s-bin
cluster-bin:
	GO=$(GO) hack/cluster/build.sh

## cluster-up: a real single-node Kubernetes cluster on this machine (root):
## containerd from Debian, the rest built from source; the project's image and
## bin/images/*.tar imported (make image first); kubeconfig at bin/cluster/kubeconfig
## (docs/guide/e2e.md). Idempotent
cluster-up: image
	GO=$(GO) hack/cluster/up.sh

## cluster-down: stop the cluster cluster-up started and remove bin/cluster/
cluster-down:
	hack/cluster/down.sh

## cluster-smoke: on a running cluster: pods, a native sidecar, an ephemeral
## volume, Service DNS, logs and exec, with the project's image
cluster-smoke:
	hack/cluster/smoke.sh

## cluster-test: cluster-up, cluster-smoke, then cluster-down even when the
## smoke check failed, which fails if anything of the cluster is left behind
cluster-test: image
	GO=$(GO) hack/cluster/up.sh && hack/cluster/smoke.sh; rc=$$?; hack/cluster/down.sh || rc=1; exit $$rc

## demo: the whole system on this machine: etcd and kube-apiserver, the CRDs,
## the manager, lookupd and two queued as processes, the samples applied and
## messages round-tripped; CI=true exits after the round trip, otherwise Ctrl-C
## stops everything (docs/guide/demo.md)
demo: build k8s-bin
	$(GO) build -o $(BIN)/demo ./hack/demo
	$(BIN)/demo

## test-demo: the demo as a test: the real binaries, the samples applied with
## kubectl, a round trip of 1,000 messages; exits when done. Then the demo
## ended by a closed stdout and by kill -9 leaves no process or directory
test-demo:
	CI=true $(MAKE) demo
	DEMO_BIN=$(BIN)/demo $(GO) test -count=1 -run '^TestDemo' ./hack/demo/

## bench: queued against nsqd v1.3.0 and the null server (the limit) in every
## preset (memory, disk-first, defaults, fsync, idle-rss), medians of 3, then
## bench-lookupd; ends with each one's summary line (about 10 minutes).
## BENCH_FLAGS go to bench-queued (-presets=memory,fsync -runs=5 -messages=N),
## BENCH_LOOKUPD_FLAGS to bench-lookupd; outputs kept in bin/bench-*.txt
# bash for pipefail: tee must not hide a failed benchmark. The null server's
# tests run first: a limit is only worth quoting from a correct server.
bench: SHELL := /bin/bash
bench: .SHELLFLAGS := -o pipefail -ec
bench: build upstream
	cd test/bench && $(GO) test -count=1 ./cmd/bench-queued/
	cd test/bench && $(GO) run ./cmd/bench-queued -ours $(BIN)/queued -nsqd $(BIN)/upstream/nsqd $(BENCH_FLAGS) \
		| tee $(BIN)/bench-queued.txt
	cd test/bench && $(GO) run ./cmd/bench-lookupd -ours $(BIN)/lookupd -nsqlookupd $(BIN)/upstream/nsqlookupd $(BENCH_LOOKUPD_FLAGS) \
		| tee $(BIN)/bench-lookupd.txt
	@echo "summary:"; grep -h -e '^queued ours/' -e '^lookupd ours/' $(BIN)/bench-queued.txt $(BIN)/bench-lookupd.txt

## bench-lookupd: GET /lookup throughput, ours vs nsqlookupd v1.3.0, medians of 3 (about 1 minute)
bench-lookupd: build upstream
	cd test/bench && $(GO) run ./cmd/bench-lookupd -ours $(BIN)/lookupd -nsqlookupd $(BIN)/upstream/nsqlookupd $(BENCH_FLAGS)

## bench-diskqueue: ours vs go-diskqueue v1.1.0, medians of 5 runs (about 3 minutes)
bench-diskqueue:
	cd test/bench && $(GO) run ./cmd/bench-diskqueue $(BENCH_FLAGS)

## bench-injection: the injection webhook's admission latency, p50/p99 over
## 1,000 pod creations against the envtest API server (about 30 seconds)
bench-injection: k8s-bin
	$(GO) test -count=1 -run '^$$' -bench Admission -benchtime 1x ./controllers/injection/

## fuzz-diskqueue: fuzz recovery from damaged files (FUZZTIME, default 60s)
FUZZTIME ?= 60s
fuzz-diskqueue:
	$(GO) test -run '^$$' -fuzz FuzzRecovery -fuzztime $(FUZZTIME) ./sidecar/diskqueue/

## clean: remove bin/ (the next build of bin/k8s is cold again: 6-11 minutes)
clean:
	rm -rf $(BIN)
