//go:build e2e

package cluster

import (
	"context"
	"fmt"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/release"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sidequeue/sidequeue/internal/testenv"
	"github.com/sidequeue/sidequeue/internal/version"
)

// The release, as the install guide names it.
const (
	releaseName      = "sidequeue"
	releaseNamespace = "sidequeue-system"
	managerName      = "sidequeue-manager" // the chart's Deployment
)

// helmConfig is Helm's action configuration for the cluster, releases in
// Secrets as the CLI keeps them (as test/install does).
func (h *harness) helmConfig(t testing.TB) *action.Configuration {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	kubeconfig, ns := h.kubeconfig, releaseNamespace
	flags.KubeConfig, flags.Namespace = &kubeconfig, &ns
	cfg := new(action.Configuration)
	must(t, cfg.Init(flags, releaseNamespace, "secret", t.Logf))
	return cfg
}

// values are the chart's defaults (self-managed certificates, two manager
// replicas) but for the image, imported rather than pulled, and the
// default Lookup: each scenario makes its own namespace and Lookup.
func (h *harness) values(extra map[string]any) map[string]any {
	v := map[string]any{
		"image":         map[string]any{"repository": version.Repository, "tag": h.tag, "pullPolicy": "Never"},
		"defaultLookup": map[string]any{"enabled": false},
	}
	for k, x := range extra {
		v[k] = x
	}
	return v
}

func loadChart(t testing.TB) *chart.Chart {
	t.Helper()
	ch, err := loader.Load(testenv.Path("charts", "sidequeue"))
	must(t, err)
	return ch
}

// helmInstall is `helm install sidequeue charts/sidequeue -n
// sidequeue-system --create-namespace` with the values above.
func (h *harness) helmInstall(t testing.TB, extra map[string]any) *release.Release {
	t.Helper()
	in := action.NewInstall(h.helmConfig(t))
	in.ReleaseName, in.Namespace, in.CreateNamespace = releaseName, releaseNamespace, true
	rel, err := in.Run(loadChart(t), h.values(extra))
	if err != nil {
		t.Fatalf("helm install: %v", err)
	}
	return rel
}

// helmUpgrade is `helm upgrade sidequeue charts/sidequeue` with the values
// above and extra.
func (h *harness) helmUpgrade(t testing.TB, extra map[string]any) *release.Release {
	t.Helper()
	up := action.NewUpgrade(h.helmConfig(t))
	up.Namespace = releaseNamespace
	rel, err := up.Run(releaseName, loadChart(t), h.values(extra))
	if err != nil {
		t.Fatalf("helm upgrade: %v", err)
	}
	return rel
}

// helmUninstall is `helm uninstall sidequeue -n sidequeue-system`.
func (h *harness) helmUninstall(t testing.TB) {
	t.Helper()
	if _, err := action.NewUninstall(h.helmConfig(t)).Run(releaseName); err != nil {
		t.Fatalf("helm uninstall: %v", err)
	}
}

// testInstall installs the chart (or finds it installed, when a scenario
// is run again by hand) and waits for the manager.
func (h *harness) testInstall(t *testing.T) {
	if _, err := action.NewGet(h.helmConfig(t)).Run(releaseName); err == nil {
		t.Logf("release %s already installed: upgrading it to this chart", releaseName)
		h.helmUpgrade(t, nil)
	} else {
		h.helmInstall(t, nil)
	}
	h.waitManagerReady(t)
}

// waitManagerReady waits until the manager's Deployment is rolled out
// and every replica Ready: /readyz holds only once the webhook serves a
// valid certificate (DESIGN.md, "Manager flags"), so injection works then.
func (h *harness) waitManagerReady(t testing.TB) {
	t.Helper()
	eventually(t, medium, "the manager Deployment ready", func(ctx context.Context) (bool, error) {
		var d appsv1.Deployment
		if err := h.k8s.Get(ctx, client.ObjectKey{Namespace: releaseNamespace, Name: managerName}, &d); err != nil {
			return false, err
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		s := d.Status
		if s.ObservedGeneration < d.Generation || s.UpdatedReplicas != want || s.ReadyReplicas != want || s.Replicas != want {
			return false, fmt.Errorf("generation %d observed %d; replicas %d updated %d ready %d, want %d",
				d.Generation, s.ObservedGeneration, s.Replicas, s.UpdatedReplicas, s.ReadyReplicas, want)
		}
		return true, nil
	})
}

// managerPods are the manager's pods now (the chart's selector labels).
func (h *harness) managerPods(ctx context.Context) ([]corev1.Pod, error) {
	var pods corev1.PodList
	err := h.k8s.List(ctx, &pods, client.InNamespace(releaseNamespace),
		client.MatchingLabels{"app.kubernetes.io/component": "manager", "app.kubernetes.io/instance": releaseName})
	return pods.Items, err
}
