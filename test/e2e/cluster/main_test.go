//go:build e2e

package cluster

import (
	"os"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/internal/testenv"
	"github.com/sidequeue/sidequeue/internal/version"
)

// harness is the cluster the tests run against, as its admin.
type harness struct {
	kubeconfig string
	cfg        *rest.Config
	cs         kubernetes.Interface // for what controller-runtime lacks: pod proxy, logs
	k8s        client.Client
	// tag is the images' tag: the product's (manager, sidecar, lookupd,
	// drain Job) and the apps' (test/e2e/cmd), both imported by up.sh.
	tag string
	// appImage is the apps' image.
	appImage string
	// logs is where failed tests leave what happened (dump.go).
	logs string
}

var scheme = runtime.NewScheme()

// newHarness connects to the cluster of $E2E_KUBECONFIG, by default the
// one hack/cluster/up.sh leaves at bin/cluster/kubeconfig; never
// $KUBECONFIG, since the tests delete namespaces and uninstall releases,
// and a person's own cluster must not be hit by mistake. IMAGE_TAG is the
// tag `make e2e-images` built (its VERSION); internal/version's Default
// when unset, as there.
func newHarness(t *testing.T) *harness {
	t.Helper()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1alpha1.AddToScheme(scheme)
	_ = apiextensionsv1.AddToScheme(scheme)
	tag := envOr("IMAGE_TAG", version.Default)
	h := &harness{
		kubeconfig: envOr("E2E_KUBECONFIG", testenv.Path("bin", "cluster", "kubeconfig")),
		tag:        tag,
		appImage:   "sidequeue-e2e:" + tag,
		logs:       envOr("E2E_LOGS", testenv.Path("bin", "e2e-logs")),
	}
	var err error
	if h.cfg, err = clientcmd.BuildConfigFromFlags("", h.kubeconfig); err != nil {
		t.Fatalf("kubeconfig %s (run hack/cluster/up.sh, or set E2E_KUBECONFIG): %v", h.kubeconfig, err)
	}
	// Many small requests from polling: client-go's default 5 QPS would
	// make every wait slower than the cluster.
	h.cfg.QPS, h.cfg.Burst = 50, 100
	if h.cs, err = kubernetes.NewForConfig(h.cfg); err != nil {
		t.Fatal(err)
	}
	if h.k8s, err = client.New(h.cfg, client.Options{Scheme: scheme}); err != nil {
		t.Fatal(err)
	}
	return h
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// TestCluster runs the scenarios in order, on one installation: the chart
// installed first, uninstalled last. A scenario runs alone with
// -run 'TestCluster/(Install|<name>)$'.
func TestCluster(t *testing.T) {
	h := newHarness(t)
	if !t.Run("Install", h.testInstall) {
		h.dumpRelease(t)
		return
	}
	for _, s := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"LookupTopicChannelReady", h.testLookupTopicChannelReady},
		{"InjectionAndFirstPublish", h.testInjectionAndFirstPublish},
		{"ConsumerReceivesEveryAcked", h.testConsumerReceivesEveryAcked},
		{"RollingUpdateLosesNothing", h.testRollingUpdateLosesNothing},
		{"BacklogHandedToDrainJob", h.testBacklogHandedToDrainJob},
		{"SidecarKilledLosesNothing", h.testSidecarKilledLosesNothing},
		{"RestrictedNamespace", h.testRestrictedNamespace},
		{"ManagerDeletedMidScenario", h.testManagerDeletedMidScenario},
		{"HelmUpgradeKeepsInjection", h.testHelmUpgradeKeepsInjection},
		{"HelmUninstallLeavesCRDs", h.testHelmUninstallLeavesCRDs},
	} {
		if !t.Run(s.name, s.run) {
			h.dumpRelease(t)
		}
	}
}
