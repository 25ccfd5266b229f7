package injection_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers/injection"
	"github.com/sidequeue/sidequeue/internal/testenv"
	"github.com/sidequeue/sidequeue/sidecar/inject"
	"github.com/sidequeue/sidequeue/sidecar/queued"
)

// The suite: a real API server (envtest, binaries from `make k8s-bin`)
// with config/webhook installed by envtest (which points its clientConfig
// at https://localhost:<port>/inject-pod), and the manager serving it in
// self-managed certificate mode, as it runs by default: it creates its
// Secret, fills it, and replaces envtest's caBundle with its own CA. Every
// call the API server makes to the webhook server is logged (calls).
var (
	k8s      client.Client
	restCfg  *rest.Config
	calls    = &callLog{}
	hookPort int
	certDir  string
	scheme   = runtime.NewScheme()
	// secretBefore: the webhook Secret existed before the manager started.
	secretBefore bool
	testEnv      *envtest.Environment
)

const (
	operatorNS = injection.DefaultNamespace
	testImage  = "sidequeue:test"
	// settle bounds every wait on the API server or the manager.
	settle = 60 * time.Second
)

var secretKey = types.NamespacedName{Namespace: operatorNS, Name: injection.DefaultSecretName}

func TestMain(m *testing.M) {
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1alpha1.AddToScheme(scheme)
	if kubeconfig := os.Getenv(replicaEnv); kubeconfig != "" {
		os.Exit(runReplica(kubeconfig))
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	env := testenv.New()
	env.WebhookInstallOptions = envtest.WebhookInstallOptions{
		Paths:            []string{testenv.Path("config", "webhook")},
		LocalServingHost: "127.0.0.1",
		// The certificate the manager makes is for names, not addresses.
		LocalServingHostExternalName: "localhost",
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "envtest (run `make k8s-bin`):", err)
		return 1
	}
	defer env.Stop()
	restCfg, testEnv = cfg, env
	hookPort = env.WebhookInstallOptions.LocalServingPort

	ctrl.SetLogger(logr.Discard())
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx := context.Background()
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNS}}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	secretBefore = !apierrors.IsNotFound(k8s.Get(ctx, secretKey, &corev1.Secret{}))
	if certDir, err = os.MkdirTemp("", "injection-test-certs-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(certDir)

	probe, err := freeAddr()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stop, err := startManager(selfManaged(hookPort, certDir), probe)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	if err := waitReady(probe, settle); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// selfManaged are the options of the suite's manager, and of its other
// replicas, serving on port with certificates written to dir.
func selfManaged(port int, dir string) injection.Options {
	return injection.Options{
		Host: "127.0.0.1", Port: port, CertDir: dir,
		CertMode: injection.SelfManaged, Namespace: operatorNS,
		Rotation: injection.Rotation{ExtraDNSNames: []string{"localhost"}},
	}
}

// startManager runs a manager that serves the webhook as cmd/manager
// does, its server wrapped to log calls, its health probes on probe.
func startManager(o injection.Options, probe string) (stop func(), err error) {
	o.Inject = inject.Config{Image: testImage, ValidateFlags: func(args []string) error {
		_, _, err := queued.ParseFlags(args)
		return err
	}}
	w, err := injection.New(o)
	if err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: probe,
		WebhookServer:          countingServer{Server: w.Server(), log: calls},
	})
	if err != nil {
		return nil, err
	}
	if err := w.Setup(mgr); err != nil {
		return nil, err
	}
	mgr.GetWebhookServer().Register(touchPath, touch)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	return func() { cancel(); <-done }, nil
}

// readyz is the status code of the manager's /readyz, 0 when it does not
// answer.
func readyz(probe string) int {
	resp, err := http.Get("http://" + probe + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func waitReady(probe string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for readyz(probe) != http.StatusOK {
		if time.Now().After(deadline) {
			return fmt.Errorf("manager not ready after %s", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// freePort is a loopback port free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	addr, err := freeAddr()
	must(t, err)
	_, p, _ := net.SplitHostPort(addr)
	port, err := strconv.Atoi(p)
	must(t, err)
	return port
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
