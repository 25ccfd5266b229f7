// Package cluster is the end-to-end suite (issue 13): sidequeue installed
// with its Helm chart in a real single-node cluster (hack/cluster/up.sh),
// and every promise of DESIGN.md counted in messages, with the publisher
// and consumer of test/e2e/cmd (image sidequeue-e2e) as the apps.
//
// Its tests carry the build tag e2e, so `go test ./...` elsewhere never
// needs a cluster; `make e2e` brings one up, runs them and takes it down.
// It is a module of its own, as test/install is, so Helm stays out of the
// product's go.mod.
package cluster
