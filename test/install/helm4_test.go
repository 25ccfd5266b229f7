package install

import (
	"testing"

	helm4 "helm.sh/helm/v4/pkg/action"
	loader4 "helm.sh/helm/v4/pkg/chart/loader"
	kube4 "helm.sh/helm/v4/pkg/kube"
	release4 "helm.sh/helm/v4/pkg/release"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// helm4Upgrade is Helm 4's `helm upgrade --server-side=true` with vals:
// the chart's objects applied server-side, as field manager "helm", over
// a release Helm 3 installed. Where a chart templates the caBundle, this is
// where it conflicts with the manager or cert-manager that owns it.
func helm4Upgrade(t testing.TB, vals map[string]any) *rendered {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	kubeconfig, ns := adminKubeconfig, releaseNamespace
	flags.KubeConfig, flags.Namespace = &kubeconfig, &ns
	cfg := new(helm4.Configuration)
	must(t, cfg.Init(flags, releaseNamespace, "secret"))
	ch, err := loader4.Load(chartDir)
	must(t, err)
	up := helm4.NewUpgrade(cfg)
	up.Namespace, up.ServerSideApply = releaseNamespace, "true"
	// No waiting on the objects (the CLI's --wait=hookOnly; Helm 3's
	// default): no kubelet runs the pods here.
	up.WaitStrategy = kube4.HookOnlyStrategy
	rel, err := up.Run(releaseName, ch, vals)
	if err != nil {
		t.Fatalf("helm 4 upgrade: %v", err)
	}
	acc, err := release4.NewAccessor(rel)
	must(t, err)
	objs, err := parseManifests(acc.Manifest())
	must(t, err)
	return &rendered{objs: objs, notes: acc.Notes()}
}
