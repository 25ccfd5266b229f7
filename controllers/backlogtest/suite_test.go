// Package backlogtest tests the backlog handoff against a real API server
// (envtest). envtest runs no kubelet, no ephemeral volume controller, no
// garbage collector, no Job controller and no namespace controller: the
// tests play each of their parts explicitly, as the helpers here say.
package backlogtest

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers"
	"github.com/sidequeue/sidequeue/internal/testenv"
)

var (
	k8s       client.Client
	restCfg   *rest.Config
	env       *envtest.Environment
	scheme    = runtime.NewScheme()
	nsCounter atomic.Int32
)

// settle bounds every wait on the API server or the operator.
const settle = 30 * time.Second

func TestMain(m *testing.M) {
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1alpha1.AddToScheme(scheme)
	os.Exit(run(m))
}

func run(m *testing.M) int {
	env = testenv.New()
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "envtest (run `make k8s-bin`):", err)
		return 1
	}
	defer env.Stop()
	restCfg = cfg
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Reconcile errors are expected (conflicts on a moving pod); the tests
	// assert what users see.
	ctrl.SetLogger(logr.Discard())
	return m.Run()
}

// operator is the Backlog controller, as the manager runs it, watching one
// namespace, so that tests in parallel and restarts do not meet.
type operator struct {
	stop context.CancelFunc
	done chan struct{}
}

// startOperator runs the Backlog controller on ns until the test ends or
// stop is called; tune changes its settings.
func startOperator(t *testing.T, ns string, tune ...func(*controllers.BacklogReconciler)) *operator {
	t.Helper()
	opts := controllers.CacheOptions()
	opts.DefaultNamespaces = map[string]cache.Config{ns: {}}
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme: scheme, Cache: opts,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: new(true)},
	})
	must(t, err)
	r := &controllers.BacklogReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
		Recorder:     mgr.GetEventRecorder("backlog-controller"),
		RetryBackoff: time.Second, FencingRetry: 200 * time.Millisecond,
	}
	for _, f := range tune {
		f(r)
	}
	must(t, r.SetupWithManager(mgr))
	ctx, cancel := context.WithCancel(context.Background())
	o := &operator{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(o.done)
		if err := mgr.Start(ctx); err != nil {
			t.Errorf("manager: %v", err)
		}
	}()
	t.Cleanup(o.shutdown)
	return o
}

func (o *operator) shutdown() {
	o.stop()
	<-o.done
}

// namespace is a fresh namespace for one test.
func namespace(t *testing.T) string {
	t.Helper()
	ns := fmt.Sprintf("bl-%d", nsCounter.Add(1))
	must(t, k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	return ns
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
