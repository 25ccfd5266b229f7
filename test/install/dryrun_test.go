package install

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sidequeue/sidequeue/internal/testenv"
)

// settle bounds every wait on the API server or the manager.
const settle = 90 * time.Second

// Every object the chart renders, for the defaults and each variant, is
// accepted by the API server (a server-side dry-run apply), CRDs and the
// namespace installed first. Kinds of other operators (cert-manager's,
// the Prometheus Operator's) are not served here and are left out.
//
// Not parallel, and before TestInstallUpgradeLeastPrivilege (file order):
// a dry-run apply merges into what exists, and the installed release is
// configured otherwise (webhook.url, another port).
func TestChartDryRunApply(t *testing.T) {
	for name, vals := range variants() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dryRunApply(t, mustRender(t, vals).objs)
		})
	}
}

// The same for `kustomize build config/default`, before the install too.
func TestKustomizeDryRunApply(t *testing.T) {
	dryRunApply(t, kustomizeBuild(t, testenv.Path("config", "default")))
}

// dryRunApply applies objs for real when they are CRDs or Namespaces (what
// the others need to exist), the others with a server-side dry run.
func dryRunApply(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	installCRDs(t)
	ensureNamespace(t, releaseNamespace)
	ctx := context.Background()
	applied := 0
	for _, o := range objs {
		switch o.GetKind() {
		case "CustomResourceDefinition", "Namespace":
			continue
		}
		if _, err := k8s.RESTMapper().RESTMapping(o.GroupVersionKind().GroupKind(), o.GroupVersionKind().Version); meta.IsNoMatchError(err) {
			t.Logf("%s/%s: %s is not served here; not applied", o.GetKind(), o.GetName(), o.GetAPIVersion())
			continue
		}
		o = o.DeepCopy()
		if err := k8s.Patch(ctx, o, client.Apply, client.DryRunAll, client.ForceOwnership, client.FieldOwner("install-test")); err != nil {
			t.Errorf("dry-run apply %s/%s: %v", o.GetKind(), o.GetName(), err)
		}
		applied++
	}
	if applied == 0 {
		t.Fatal("nothing applied")
	}
}

var crdsOnce struct {
	sync.Once
	err error
}

// installCRDs creates the chart's CRDs, once, and waits until they are
// served.
func installCRDs(t testing.TB) {
	t.Helper()
	crdsOnce.Do(func() {
		crdsOnce.err = errors.New("installing the CRDs did not finish")
		crdsOnce.err = createCRDs(mustRender(t, nil))
	})
	if crdsOnce.err != nil {
		t.Fatal(crdsOnce.err)
	}
}

func createCRDs(r *rendered) error {
	ctx := context.Background()
	for _, o := range r.ofKind("CustomResourceDefinition") {
		if err := k8s.Create(ctx, o.DeepCopy()); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating CRD %s: %w", o.GetName(), err)
		}
		if err := waitEstablished(ctx, o.GetName()); err != nil {
			return err
		}
	}
	return nil
}

func waitEstablished(ctx context.Context, name string) error {
	deadline := time.Now().Add(settle)
	for {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := k8s.Get(ctx, client.ObjectKey{Name: name}, &crd); err == nil {
			for _, c := range crd.Status.Conditions {
				if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("CRD %s not established after %s", name, settle)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ensureNamespace creates namespace ns unless it exists.
func ensureNamespace(t testing.TB, ns string, labels ...string) {
	t.Helper()
	n := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{}}}
	for _, l := range labels {
		k, v, _ := strings.Cut(l, "=")
		n.Labels[k] = v
	}
	if err := k8s.Create(context.Background(), n); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}
