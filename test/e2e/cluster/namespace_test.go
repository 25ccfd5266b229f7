//go:build e2e

package cluster

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// Namespace labels: opted in to injection, and the Pod Security Standard
// enforced (the restricted scenario).
var (
	injectionEnabled = map[string]string{v1alpha1.NamespaceInjectionLabel: v1alpha1.NamespaceInjectionEnabled}
	enforceLabel     = "pod-security.kubernetes.io/enforce"
)

// namespace creates a namespace of its own for the test (generateName
// e2e-<prefix>-, so a rerun never meets one still terminating) with labels.
// When the test ends its contents are dumped if it failed, then it is
// deleted, and the test fails if it does not go: a finalizer of ours
// must never keep a namespace (DESIGN.md, "Never wedged").
func (h *harness) namespace(t *testing.T, prefix string, labels map[string]string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-" + prefix + "-", Labels: labels}}
	must(t, h.k8s.Create(ctx(t), ns))
	name := ns.Name
	t.Logf("namespace %s", name)
	t.Cleanup(func() {
		if t.Failed() {
			h.dump(t, name)
		}
		h.deleteNamespace(t, name)
	})
	return name
}

func (h *harness) deleteNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := h.k8s.Delete(context.Background(), ns); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("deleting namespace %s: %v", name, err)
		return
	}
	eventually(t, long, "namespace "+name+" to be gone", func(ctx context.Context) (bool, error) {
		err := h.k8s.Get(ctx, client.ObjectKey{Name: name}, &corev1.Namespace{})
		return apierrors.IsNotFound(err), err
	})
}

// shortName is a test's last name part, lower case, for namespace names.
func shortName(t *testing.T) string {
	name := t.Name()
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if len(name) > 20 {
		name = name[:20]
	}
	return strings.ToLower(name)
}
