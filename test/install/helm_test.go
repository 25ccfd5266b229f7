package install

import (
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// helmConfig is Helm's action configuration against the envtest API
// server, as admin, releases stored in Secrets as the CLI stores them.
func helmConfig(t testing.TB) *action.Configuration {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	kubeconfig, ns := adminKubeconfig, releaseNamespace
	flags.KubeConfig, flags.Namespace = &kubeconfig, &ns
	cfg := new(action.Configuration)
	must(t, cfg.Init(flags, releaseNamespace, "secret", t.Logf))
	return cfg
}

// helmInstall is `helm install sidequeue charts/sidequeue -n
// sidequeue-system --create-namespace` with vals.
func helmInstall(t testing.TB, vals map[string]any) *release.Release {
	t.Helper()
	in := action.NewInstall(helmConfig(t))
	in.ReleaseName, in.Namespace, in.CreateNamespace = releaseName, releaseNamespace, true
	rel, err := in.Run(loadChart(t), vals)
	if err != nil {
		t.Fatalf("helm install: %v", err)
	}
	return rel
}

// helmUpgrade is `helm upgrade sidequeue charts/sidequeue` with vals.
func helmUpgrade(t testing.TB, vals map[string]any) *release.Release {
	t.Helper()
	up := action.NewUpgrade(helmConfig(t))
	up.Namespace = releaseNamespace
	rel, err := up.Run(releaseName, loadChart(t), vals)
	if err != nil {
		t.Fatalf("helm upgrade: %v", err)
	}
	return rel
}

// releaseObjects are the objects of a release's manifest.
func releaseObjects(t testing.TB, rel *release.Release) *rendered {
	t.Helper()
	objs, err := parseManifests(rel.Manifest)
	must(t, err)
	return &rendered{objs: objs, notes: rel.Info.Notes}
}
