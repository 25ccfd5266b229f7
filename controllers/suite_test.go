package controllers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers"
	"github.com/sidequeue/sidequeue/controllers/nsqapi"
	"github.com/sidequeue/sidequeue/internal/testutil"
	"github.com/sidequeue/sidequeue/lookup"
	"github.com/sidequeue/sidequeue/sidecar/queued"
)

// The suite: a real API server (envtest, binaries from `make k8s-bin`), the
// manager with the three reconcilers, and one lookupd and one queued in process.
var (
	k8s        client.Client
	nsq        = nsqapi.NewClient()
	lookupHTTP string
	lookupTCP  string
	daemonHTTP string
	nsCounter  atomic.Int32
	testEnv    *envtest.Environment // for a kubeconfig (columns_test.go)
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	const root = ".." // go test runs in the package's directory
	env := &envtest.Environment{
		BinaryAssetsDirectory: filepath.Join(root, "bin", "k8s"),
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "envtest (run `make k8s-bin`):", err)
		return 1
	}
	defer env.Stop()
	testEnv = env

	stop, err := startDaemons()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()

	// Reconcile errors are expected here (missing dependencies, unreachable
	// addresses); the tests assert what users see, in status and events.
	ctrl.SetLogger(logr.Discard())
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1alpha1.AddToScheme(scheme)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Cache: controllers.CacheOptions(), Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := controllers.Setup(mgr, controllers.Options{NSQ: nsq, StatsInterval: 200 * time.Millisecond}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	defer func() { cancel(); <-done }()
	k8s = mgr.GetClient()
	return m.Run()
}

func startDaemons() (func(), error) {
	lo := lookup.NewOptions()
	lo.TCPAddress, lo.HTTPAddress, lo.BroadcastAddress, lo.LogLevel = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1", "error"
	l, err := lookup.New(lo)
	if err != nil {
		return nil, err
	}
	go l.Main()
	dir, err := os.MkdirTemp("", "controllers-test")
	if err != nil {
		l.Exit()
		return nil, err
	}
	qo := queued.NewOptions()
	qo.TCPAddress, qo.HTTPAddress, qo.BroadcastAddress = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1"
	qo.DataPath, qo.LogLevel = dir, "error"
	qo.LookupdTCPAddresses = []string{l.TCPAddr().String()}
	d, err := queued.New(qo)
	if err != nil {
		l.Exit()
		return nil, err
	}
	go d.Main()
	lookupHTTP, lookupTCP, daemonHTTP = l.HTTPAddr().String(), l.TCPAddr().String(), d.HTTPAddr().String()
	return func() { d.Exit(); l.Exit(); os.RemoveAll(dir) }, nil
}

// namespace creates a fresh namespace with an external Lookup "default"
// pointing at the in-process lookupd.
func namespace(t *testing.T, withLookup bool) string {
	t.Helper()
	ns := fmt.Sprintf("test-%d", nsCounter.Add(1))
	must(t, k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	if withLookup {
		must(t, k8s.Create(context.Background(), &v1alpha1.Lookup{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"},
			Spec: v1alpha1.LookupSpec{External: &v1alpha1.ExternalLookup{
				TCPAddresses: []string{lookupTCP}, HTTPAddresses: []string{lookupHTTP},
			}},
		}))
	}
	return ns
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond until it holds or 30 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	within(t, 30*time.Second, what, cond)
}

// within polls cond until it holds or d passes.
func within(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.WaitEvery(t, what, d, 20*time.Millisecond, cond)
}

// get fetches obj by namespace and name; false when it does not exist.
func get(t *testing.T, ns, name string, obj client.Object) bool {
	t.Helper()
	err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj)
	if err != nil && client.IgnoreNotFound(err) != nil {
		t.Fatal(err)
	}
	return err == nil
}

// ready reports whether conds hold Ready with the given status and reason
// for generation gen.
func ready(conds []metav1.Condition, gen int64, status metav1.ConditionStatus, reason string) bool {
	c := meta.FindStatusCondition(conds, v1alpha1.ConditionReady)
	return c != nil && c.Status == status && c.Reason == reason && c.ObservedGeneration == gen
}
