package install

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// The chart installed with Helm 3's SDK, the manager run as its Deployment
// says under its ServiceAccount, every behaviour of the manager exercised,
// the release upgraded and the manager rolled, upgraded again by Helm 4
// (server-side apply), the webhook's Secret lost: the caBundle the
// manager wrote survives the upgrades and the rollout,
// injected pods are admitted at every step, and the audit log shows the
// chart's RBAC is what the manager uses, no more. Then helm uninstall
// keeps what it should, and the chart is installed again in cert-manager
// mode (installCertManagerMode).
//
// The API server cannot reach a Service here (no cluster network), so
// the release is installed with webhook.url, the chart's value for a
// manager outside the cluster: https://localhost:<port>, a name the
// manager's certificate holds with --webhook-cert-dns-names=localhost.
// Not parallel: it runs after the dry runs, before the other tests.
func TestInstallUpgradeLeastPrivilege(t *testing.T) {
	hookPort := freePort(t)
	base := func(kv ...any) map[string]any {
		return values(append([]any{"webhook.url", fmt.Sprintf("https://localhost:%d/inject-pod", hookPort),
			"webhook.port", hookPort}, kv...)...)
	}
	installed := releaseObjects(t, helmInstall(t, base()))
	kubeconfig := impersonatingKubeconfig(t)
	m := startManager(t, installed.find(t, "Deployment", "sidequeue-manager"), hookPort, kubeconfig, "")
	m.waitReady(t)
	ca := caBundle(t)
	shop := setupShop(t)
	assertInjected(t, shop, "after-install")
	exerciseControllers(t, shop)
	exerciseBacklog(t, shop, m)

	upgraded := releaseObjects(t, helmUpgrade(t, base("statsInterval", "20s", "logLevel", "debug",
		"metrics.dashboard.enabled", false)))
	if upgraded.get("ConfigMap", "sidequeue-dashboard") != nil {
		t.Error("the upgrade did not apply the new values")
	}
	if got := caBundle(t); !bytes.Equal(got, ca) {
		t.Error("helm upgrade changed the caBundle the manager wrote")
	}
	assertInjected(t, shop, "after-upgrade")

	// The rollout: the old manager goes, one with the new args comes and
	// finds its CA in the Secret the upgrade kept.
	m.stop()
	m = startManager(t, upgraded.find(t, "Deployment", "sidequeue-manager"), hookPort, kubeconfig, "")
	m.waitReady(t)
	if got := caBundle(t); !bytes.Equal(got, ca) {
		t.Error("the upgraded manager replaced the CA: the Secret lost it")
	}
	assertInjected(t, shop, "after-rollout")

	// Helm 4 upgrades the Helm 3 release with server-side apply: nothing
	// conflicts (the chart sets no caBundle and no Secret data), and what
	// the manager owns stays.
	upgraded = helm4Upgrade(t, base("statsInterval", "25s"))
	if upgraded.get("ConfigMap", "sidequeue-dashboard") == nil {
		t.Error("the Helm 4 upgrade did not apply the new values")
	}
	if got := caBundle(t); !bytes.Equal(got, ca) {
		t.Error("Helm 4's server-side apply changed the caBundle the manager wrote")
	}
	assertAppliedServerSide(t)
	assertInjected(t, shop, "after-helm4-upgrade")

	// The Secret lost: a manager starting recreates it with a new CA.
	m.stop()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: releaseNamespace, Name: "sidequeue-webhook-cert"}}
	must(t, k8s.Delete(context.Background(), secret))
	m = startManager(t, upgraded.find(t, "Deployment", "sidequeue-manager"), hookPort, kubeconfig, "")
	m.waitReady(t)
	if got := caBundle(t); bytes.Equal(got, ca) {
		t.Error("a new Secret, and the caBundle still holds the old CA")
	}
	assertInjected(t, shop, "after-secret-lost")
	m.stop()

	assertLeastPrivilege(t, upgraded)
	assertUninstallKeeps(t, upgraded, shop)
	installCertManagerMode(t, hookPort, kubeconfig, shop)
}

// caBundle is the CA both entries of the configuration trust, the same.
func caBundle(t testing.TB) []byte {
	t.Helper()
	var c admissionregistrationv1.MutatingWebhookConfiguration
	must(t, k8s.Get(context.Background(), client.ObjectKey{Name: "sidequeue-injector"}, &c))
	var ca []byte
	for i, w := range c.Webhooks {
		if len(w.ClientConfig.CABundle) == 0 || (i > 0 && !bytes.Equal(w.ClientConfig.CABundle, ca)) {
			t.Fatalf("webhook %s: caBundle %d bytes, unlike the others", w.Name, len(w.ClientConfig.CABundle))
		}
		ca = w.ClientConfig.CABundle
	}
	return ca
}

// setupShop is a namespace opted in to injection, with a Lookup.
func setupShop(t testing.TB) string {
	t.Helper()
	const ns = "shop"
	ensureNamespace(t, ns, v1alpha1.NamespaceInjectionLabel+"="+v1alpha1.NamespaceInjectionEnabled)
	l := &v1alpha1.Lookup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.DefaultLookupName},
		Spec: v1alpha1.LookupSpec{External: &v1alpha1.ExternalLookup{
			TCPAddresses: []string{"127.0.0.1:1"}, HTTPAddresses: []string{"127.0.0.1:1"}}}}
	must(t, k8s.Create(context.Background(), l))
	return ns
}

// assertInjected creates a pod that asks for the sidecar, and checks that
// the API server sent it to the manager and admitted it with the sidecar.
func assertInjected(t testing.TB, ns, name string) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Annotations: map[string]string{v1alpha1.InjectKey: "true"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "publisher:1"}}},
	}
	if err := k8s.Create(context.Background(), pod); err != nil {
		t.Fatalf("pod %s: %v", name, err)
	}
	if len(pod.Spec.InitContainers) == 0 || pod.Spec.InitContainers[0].Name != v1alpha1.SidecarContainerName ||
		pod.Labels[v1alpha1.LabelInjected] != "true" {
		t.Errorf("pod %s admitted without the sidecar: init containers %v, labels %v", name, pod.Spec.InitContainers, pod.Labels)
	}
}

// assertAppliedServerSide checks that the webhook configuration was last
// written by a server-side apply (Helm 4's), so the test above saw the
// caBundle survive one.
func assertAppliedServerSide(t testing.TB) {
	t.Helper()
	var c admissionregistrationv1.MutatingWebhookConfiguration
	must(t, k8s.Get(context.Background(), client.ObjectKey{Name: "sidequeue-injector"}, &c))
	for _, f := range c.ManagedFields {
		if f.Operation == metav1.ManagedFieldsOperationApply {
			return
		}
	}
	t.Errorf("no server-side apply among the configuration's field managers: %v", c.ManagedFields)
}

// assertUninstallKeeps uninstalls the release: what it rendered is gone
// but the CRDs (Helm never deletes crds/), so the custom resources users
// made are kept.
func assertUninstallKeeps(t *testing.T, r *rendered, ns string) {
	t.Helper()
	if _, err := action.NewUninstall(helmConfig(t)).Run(releaseName); err != nil {
		t.Fatalf("helm uninstall: %v", err)
	}
	ctx := context.Background()
	for _, o := range r.objs {
		u := o.DeepCopy()
		err := k8s.Get(ctx, client.ObjectKeyFromObject(u), u)
		gone := apierrors.IsNotFound(err) || !u.GetDeletionTimestamp().IsZero()
		switch {
		case o.GetKind() == "CustomResourceDefinition" && err != nil:
			t.Errorf("helm uninstall removed CRD %s: %v", o.GetName(), err)
		case o.GetKind() != "CustomResourceDefinition" && !gone:
			t.Errorf("helm uninstall left %s/%s", o.GetKind(), o.GetName())
		}
	}
	var l v1alpha1.Lookup
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: v1alpha1.DefaultLookupName}, &l); err != nil {
		t.Errorf("the Lookup a user made is gone with the release: %v", err)
	}
}
