// Package cluster is the end-to-end suite (issue 13): sidequeue installed
// with its Helm chart in a real single-node cluster (hack/cluster/up.sh),
// and every promise of DESIGN.md counted in messages, with the publisher
// and consumer of test/e2e/cmd (image sidequeue-e2e) as the apps.
//
// Its tests carry the build tag e2e, so `go test ./...` elsewhere never
// needs a cluster; `make e2e` builds the images into bin/images/, brings
// the cluster up, runs them and takes it down. It is a module of its own,
// as test/install is, so Helm stays out of the product's go.mod.
//
// TestCluster installs the chart (release sidequeue in sidequeue-system,
// image pull policy Never: the images are imported, not pulled), runs each
// scenario in a namespace of its own, and uninstalls the chart last. One
// scenario alone, against a cluster that is up:
//
//	cd test/e2e/cluster && go test -tags e2e -count=1 -v \
//	    -run 'TestCluster/(Install|RollingUpdateLosesNothing)$' .
//
// The environment:
//   - E2E_KUBECONFIG: the cluster's admin kubeconfig (default
//     bin/cluster/kubeconfig, where up.sh leaves it); $KUBECONFIG is never
//     read, so a person's own cluster is not touched by mistake;
//   - IMAGE_TAG: the tag of both images (default internal/version's
//     Default; `make e2e VERSION=x` sets it);
//   - E2E_LOGS: where a failed test leaves its namespaces' objects,
//     `kubectl describe` output and container logs (default bin/e2e-logs);
//   - KUBECTL: the kubectl for those descriptions (default
//     bin/cluster/kubectl, bin/k8s/kubectl, then PATH);
//   - E2E_CTR: the ctr command line of the cluster's containerd, for the
//     scenario that SIGKILLs a sidecar (runtime_test.go).
package cluster
