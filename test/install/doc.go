// Package install tests what users install: the Helm chart
// (charts/sidequeue) and the kustomize configuration (config/default),
// rendered with Helm's and kustomize's own Go code, applied to a real API
// server (envtest, from bin/k8s), and run: the chart installed and
// upgraded, the manager (bin/manager) started as the chart starts it,
// under the chart's ServiceAccount, its requests audited to check the
// chart's RBAC is least privilege. A module of its own, so the product's
// go.mod carries none of Helm's or kustomize's dependencies.
package install
