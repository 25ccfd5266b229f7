package install

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The manager's pod passes the restricted Pod Security Standard, as the
// API server's own PodSecurity admission judges it: the Deployment's pod
// template, created (dry run) as a pod in a namespace that enforces
// restricted, for each certificate mode.
func TestManagerPodIsRestricted(t *testing.T) {
	t.Parallel()
	const ns = "psa-restricted"
	ensureNamespace(t, ns, "pod-security.kubernetes.io/enforce=restricted")
	for _, mode := range []string{"self-managed", "cert-manager"} {
		d := mustRender(t, values("webhook.certMode", mode)).find(t, "Deployment", "sidequeue-manager")
		var pod corev1.Pod
		tmpl, _ := field(d.Object, "spec.template").(map[string]any)
		must(t, runtime.DefaultUnstructuredConverter.FromUnstructured(tmpl, &pod))
		pod.ObjectMeta = metav1.ObjectMeta{Namespace: ns, Name: "manager-" + mode, Labels: pod.Labels}
		if err := k8s.Create(context.Background(), &pod, client.DryRunAll); err != nil {
			t.Errorf("%s: the manager's pod is refused where restricted is enforced: %v", mode, err)
		}
	}
}
