// Command manager is the sidequeue operator: it reconciles Lookups, Topics
// and Channels. It runs in or out of cluster (kubeconfig from KUBECONFIG).
package main

import (
	"flag"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers"
	"github.com/sidequeue/sidequeue/controllers/nsqapi"
)

func main() {
	var (
		metricsAddr, probeAddr, sidecarImage string
		leaderElect, enableWebhooks          bool
		statsInterval                        time.Duration
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "address the metrics endpoint binds to; 0 disables it")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "address the health probes bind to")
	flag.BoolVar(&leaderElect, "leader-elect", false, "elect a leader so that only one manager is active")
	flag.BoolVar(&enableWebhooks, "enable-webhooks", true, "serve the admission webhooks")
	flag.DurationVar(&statsInterval, "stats-interval", controllers.DefaultStatsInterval, "how often Topic and Channel status is refreshed from the daemons")
	flag.StringVar(&sidecarImage, "sidecar-image", "", "image holding queued and lookupd, run by managed Lookups that name no image ("+controllers.DefaultImage+" when empty)")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		fail(log, err, "scheme")
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		fail(log, err, "scheme")
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		fail(log, err, "kubeconfig")
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Cache:                  controllers.CacheOptions(),
		Metrics:                metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress: probeAddr,
		LeaderElection:         leaderElect,
		LeaderElectionID:       "manager.sidequeue.io",
	})
	if err != nil {
		fail(log, err, "manager")
	}
	if err := controllers.Setup(mgr, controllers.Options{StatsInterval: statsInterval, NSQ: nsqapi.NewClient(), Image: sidecarImage}); err != nil {
		fail(log, err, "controllers")
	}
	if enableWebhooks {
		log.Info("--enable-webhooks: no webhooks are registered yet")
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		fail(log, err, "healthz")
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		fail(log, err, "readyz")
	}
	log.Info("starting manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		fail(log, err, "running manager")
	}
}

func fail(log interface{ Error(error, string, ...any) }, err error, what string) {
	log.Error(err, what)
	os.Exit(1)
}
