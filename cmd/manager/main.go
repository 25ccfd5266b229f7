// Command manager is the sidequeue operator: it reconciles Lookups, Topics
// and Channels, and serves the sidecar injection webhook. It runs in or out
// of cluster (kubeconfig from KUBECONFIG).
package main

import (
	"errors"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	crconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers"
	"github.com/sidequeue/sidequeue/controllers/injection"
	"github.com/sidequeue/sidequeue/controllers/nsqapi"
	"github.com/sidequeue/sidequeue/internal/cli"
	"github.com/sidequeue/sidequeue/internal/version"
	"github.com/sidequeue/sidequeue/sidecar/inject"
	"github.com/sidequeue/sidequeue/sidecar/queued"
)

func main() {
	c, err := parseFlags(os.Args[1:])
	if err != nil {
		cli.Exit("manager", err, usage)
	}
	if c.showVersion {
		cli.PrintVersion(os.Stdout)
		return
	}
	metricsAddr, probeAddr, sidecarImage := c.metricsAddr, c.probeAddr, c.sidecarImage
	leaderElect, enableWebhooks := c.leaderElect, c.enableWebhooks
	statsInterval, drainJobDeadline, hook := c.statsInterval, c.drainJobDeadline, c.hook
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&c.zap)))
	log := ctrl.Log.WithName("setup")
	log.Info("starting", "version", version.String(), "metrics", metricsAddr, "probes", probeAddr, "webhooks", enableWebhooks)

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		fail(log, err, "scheme")
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		fail(log, err, "scheme")
	}
	var webhooks *injection.Webhook
	if enableWebhooks {
		image := sidecarImage
		if image == "" {
			image = controllers.DefaultImage
		}
		hook.Inject = inject.Config{Image: image, ValidateFlags: validateQueuedFlags}
		var err error
		if webhooks, err = injection.New(hook); err != nil {
			fail(log, err, "webhook")
		}
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		fail(log, err, "no cluster to manage: set KUBECONFIG, or put a kubeconfig in ~/.kube/config, or run in a pod")
	}
	mopts := ctrl.Options{
		Scheme:                 scheme,
		Cache:                  controllers.CacheOptions(),
		Metrics:                metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress: probeAddr,
		LeaderElection:         leaderElect,
		LeaderElectionID:       "manager.sidequeue.io",
		// The Lease is in the manager's namespace, where its Role grants
		// leases; out of cluster controller-runtime cannot find one itself.
		LeaderElectionNamespace: hook.Namespace,
		Controller:              crconfig.Controller{MaxConcurrentReconciles: c.maxConcurrentReconciles},
	}
	if webhooks != nil {
		mopts.WebhookServer = webhooks.Server()
	}
	mgr, err := ctrl.NewManager(cfg, mopts)
	if err != nil {
		fail(log, err, "manager")
	}
	if err := controllers.Setup(mgr, controllers.Options{
		StatsInterval: statsInterval, NSQ: nsqapi.NewClient(), Image: sidecarImage, DrainJobDeadline: drainJobDeadline,
	}); err != nil {
		fail(log, err, "controllers")
	}
	if webhooks != nil {
		if err := webhooks.Setup(mgr); err != nil {
			fail(log, err, "webhook")
		}
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
	// Start returns nil only once the signal handler's context is done.
	log.Info("stopped: received SIGINT or SIGTERM")
}

// validateQueuedFlags is queued's own parser and checks, so that the
// webhook refuses a pod whose sidecar would not start, and one whose
// sidecar would never be ready.
func validateQueuedFlags(args []string) error {
	o, _, err := queued.ParseFlags(args)
	if err != nil {
		return err
	}
	if err := o.Check(); err != nil {
		return err
	}
	if o.TLSRequired == queued.TLSRequired {
		return errTLSRequiredProbes
	}
	return nil
}

var errTLSRequiredProbes = errors.New("--tls-required=true (which --tls-client-auth-policy alone implies) answers plain HTTP with 403, /ping included, " +
	"and the sidecar's probes call /ping over plain HTTP, so it would never be ready: use --tls-required=tcp-https, " +
	"which requires TLS of every TCP client and leaves plain HTTP to the probes")

func fail(log interface{ Error(error, string, ...any) }, err error, what string) {
	log.Error(err, what)
	os.Exit(1)
}
