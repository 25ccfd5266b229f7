// Package testenv starts the Kubernetes API server that tests run against:
// controller-runtime's envtest, on the kube-apiserver and etcd that
// `make k8s-bin` builds into bin/k8s, with the project's CRDs installed.
package testenv

import (
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/sidequeue/sidequeue/internal/testutil"
)

// Root is the module's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Path is a path under the module's root, given as slash-separated parts.
func Path(parts ...string) string {
	return filepath.Join(append([]string{Root()}, parts...)...)
}

// New is an environment of the API server and etcd from bin/k8s, with the
// CRDs of config/crd/bases; set more fields (WebhookInstallOptions, say)
// before Start.
func New() *envtest.Environment {
	return &envtest.Environment{
		BinaryAssetsDirectory: Path("bin", "k8s"),
		CRDDirectoryPaths:     []string{Path("config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
}

// Within is testutil.WaitFor, with the bound first.
func Within(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.WaitEvery(t, what, d, 20*time.Millisecond, cond)
}
