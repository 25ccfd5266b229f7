package install

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/internal/testenv"
)

// One API server for every test here, with the audit log on: it records
// every request the chart's ServiceAccount makes (auditPolicy), which the
// least-privilege test reads. The CRDs are not installed by envtest: the
// tests install the chart's.
var (
	admin *envtest.AuthenticatedUser
	// adminKubeconfig is admin's kubeconfig file, for Helm.
	adminKubeconfig string
	adminCfg        *rest.Config
	k8s             client.Client
	auditLog        string
	scheme          = runtime.NewScheme()
)

// auditPolicy logs the metadata of every request: the policy sees the
// authenticated user, not the one impersonated, so it cannot pick the
// ServiceAccount's requests; the test does.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
`

func TestMain(m *testing.M) {
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1alpha1.AddToScheme(scheme)
	_ = apiextensionsv1.AddToScheme(scheme)
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "install-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	policy := filepath.Join(dir, "audit-policy.yaml")
	auditLog = filepath.Join(dir, "audit.log")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env := &envtest.Environment{BinaryAssetsDirectory: testenv.Path("bin", "k8s")}
	api := env.ControlPlane.GetAPIServer().Configure()
	api.Set("audit-policy-file", policy).Set("audit-log-path", auditLog)
	// The permission an ownerReference with blockOwnerDeletion needs
	// (update on the owner's finalizers) is checked, as in clusters that
	// enable it, so the chart's RBAC is shown to be enough for it.
	api.Set("enable-admission-plugins", "OwnerReferencesPermissionEnforcement")
	if _, err := env.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "envtest (run `make k8s-bin`):", err)
		return 1
	}
	defer env.Stop()
	if err := setupAdmin(env, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// setupAdmin makes a cluster admin, its client and its kubeconfig file.
func setupAdmin(env *envtest.Environment, dir string) error {
	var err error
	if admin, err = env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil); err != nil {
		return fmt.Errorf("admin user: %w", err)
	}
	adminCfg = admin.Config()
	if k8s, err = client.New(adminCfg, client.Options{Scheme: scheme}); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	kc, err := admin.KubeConfig()
	if err != nil {
		return fmt.Errorf("admin kubeconfig: %w", err)
	}
	adminKubeconfig = filepath.Join(dir, "admin.kubeconfig")
	return os.WriteFile(adminKubeconfig, kc, 0o600)
}

// impersonatingKubeconfig writes a kubeconfig that acts as the chart's
// ServiceAccount: admin's credentials, impersonating the account and the
// groups a ServiceAccount token carries.
func impersonatingKubeconfig(t testing.TB) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(adminKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range cfg.AuthInfos {
		a.Impersonate = serviceAccountUser
		a.ImpersonateGroups = []string{"system:serviceaccounts", "system:serviceaccounts:" + releaseNamespace, "system:authenticated"}
	}
	path := filepath.Join(t.TempDir(), "manager.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}
