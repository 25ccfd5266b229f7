// Command manager is the sidequeue operator: it reconciles Lookups, Topics
// and Channels, and serves the sidecar injection webhook. It runs in or out
// of cluster (kubeconfig from KUBECONFIG).
package main

import (
	"flag"
	"fmt"
	"os"
	goruntime "runtime"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers"
	"github.com/sidequeue/sidequeue/controllers/injection"
	"github.com/sidequeue/sidequeue/controllers/nsqapi"
	"github.com/sidequeue/sidequeue/internal/version"
	"github.com/sidequeue/sidequeue/sidecar/inject"
	"github.com/sidequeue/sidequeue/sidecar/queued"
)

func main() {
	var (
		metricsAddr, probeAddr, sidecarImage string
		leaderElect, enableWebhooks, showVer bool
		statsInterval, drainJobDeadline      time.Duration
		hook                                 injection.Options
	)
	flag.BoolVar(&showVer, "version", false, "print version string")
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "address the metrics endpoint binds to; 0 disables it")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "address the health probes bind to")
	flag.BoolVar(&leaderElect, "leader-elect", false, "elect a leader so that only one manager is active")
	flag.BoolVar(&enableWebhooks, "enable-webhooks", true, "serve the admission webhooks")
	flag.DurationVar(&statsInterval, "stats-interval", controllers.DefaultStatsInterval, "how often Topic and Channel status is refreshed from the daemons")
	flag.DurationVar(&drainJobDeadline, "drain-job-deadline", controllers.DefaultDrainJobDeadline, "how long a drain Job may serve a departed pod's backlog before it fails and another is started (its activeDeadlineSeconds)")
	flag.StringVar(&sidecarImage, "sidecar-image", "", "image holding queued and lookupd, run by managed Lookups that name no image ("+controllers.DefaultImage+" when empty)")
	flag.IntVar(&hook.Port, "webhook-port", injection.DefaultPort, "port the webhook server listens on")
	flag.StringVar(&hook.Host, "webhook-host", "", "address the webhook server listens on (all when empty)")
	flag.Func("webhook-cert-dns-names", "self-managed mode: more DNS names for the serving certificate, comma-separated, for a webhook called by URL (a manager outside the cluster: localhost)", func(s string) error {
		hook.Rotation.ExtraDNSNames = append(hook.Rotation.ExtraDNSNames, strings.Split(s, ",")...)
		return nil
	})
	flag.StringVar(&hook.CertDir, "webhook-cert-dir", "", "directory of the webhook's tls.crt and tls.key ($TMPDIR/k8s-webhook-server/serving-certs when empty); written by the manager in self-managed mode, so writable then")
	flag.StringVar((*string)(&hook.CertMode), "webhook-cert-mode", string(injection.SelfManaged), "where the webhook certificate comes from: "+string(injection.SelfManaged)+" (the manager keeps a CA and a certificate in --webhook-secret, renews them and patches the caBundle of "+injection.ConfigurationName+") or "+string(injection.External)+" (put in --webhook-cert-dir by someone else, e.g. cert-manager)")
	flag.StringVar(&hook.SecretName, "webhook-secret", injection.DefaultSecretName, "self-managed mode: the Secret, in the manager's namespace, holding the CA and the serving certificate (created when missing)")
	flag.StringVar(&hook.ServiceName, "webhook-service", injection.DefaultServiceName, "self-managed mode: the webhook Service, in the manager's namespace, the certificate is made out to")
	flag.StringVar(&hook.Namespace, "namespace", namespaceDefault(), "the manager's namespace: where the webhook Secret and Service are ($POD_NAMESPACE, else "+injection.DefaultNamespace+")")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	if showVer {
		fmt.Printf("manager v%s (built w/%s)\n", version.Version, goruntime.Version())
		return
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")

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
		fail(log, err, "kubeconfig")
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
}

// validateQueuedFlags is queued's own parser, so that the webhook refuses
// a pod whose sidecar would not start.
func validateQueuedFlags(args []string) error {
	_, _, err := queued.ParseFlags(args)
	return err
}

// namespaceDefault is $POD_NAMESPACE (the downward API sets it in
// cluster), else the namespace of config/.
func namespaceDefault() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	return injection.DefaultNamespace
}

func fail(log interface{ Error(error, string, ...any) }, err error, what string) {
	log.Error(err, what)
	os.Exit(1)
}
