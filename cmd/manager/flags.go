package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	uberzap "go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	crconfig "sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/sidequeue/sidequeue/controllers"
	"github.com/sidequeue/sidequeue/controllers/injection"
	"github.com/sidequeue/sidequeue/internal/cli"
)

// about is the first line of --help: what the binary is.
const about = "manager is sidequeue's operator: it reconciles Lookups, Topics, Channels and Backlogs and serves the webhook that injects queued into pods."

// config is the manager's command line.
type config struct {
	metricsAddr, probeAddr, sidecarImage string
	leaderElect, enableWebhooks          bool
	showVersion                          bool
	statsInterval, drainJobDeadline      time.Duration
	maxConcurrentReconciles              int
	hook                                 injection.Options
	zap                                  zap.Options
}

func parseFlags(args []string) (*config, error) {
	c := &config{}
	fs := defineFlags(c)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, errUnexpected(fs.Arg(0))
	}
	if c.maxConcurrentReconciles < 1 {
		return nil, fmt.Errorf("--max-concurrent-reconciles=%d: must be at least 1", c.maxConcurrentReconciles)
	}
	return c, nil
}

// defaultConcurrentReconciles lets one slow daemon's Topic wait without
// holding up every other Topic; each reconcile asks its daemons in
// parallel too.
const defaultConcurrentReconciles = 4

type errUnexpected string

func (e errUnexpected) Error() string {
	return "unexpected argument \"" + string(e) + "\": every option is a --flag"
}

func usage(w io.Writer) { cli.Usage(w, about, defineFlags(&config{})) }

// defineFlags defines the manager's flags, and zap's, on a new, silent
// flag set, with c's fields as their values.
func defineFlags(c *config) *flag.FlagSet {
	fs := cli.NewFlagSet("manager")
	fs.BoolVar(&c.showVersion, "version", false, "print version string")
	fs.StringVar(&c.metricsAddr, "metrics-bind-address", ":8080", "address the metrics endpoint binds to; 0 disables it")
	fs.StringVar(&c.probeAddr, "health-probe-bind-address", ":8081", "address the health probes bind to")
	fs.BoolVar(&c.leaderElect, "leader-elect", false, "elect a leader so that only one manager is active")
	fs.BoolVar(&c.enableWebhooks, "enable-webhooks", true, "serve the admission webhooks")
	fs.DurationVar(&c.statsInterval, "stats-interval", controllers.DefaultStatsInterval, "how often Topic and Channel status is refreshed from the daemons")
	fs.IntVar(&c.maxConcurrentReconciles, "max-concurrent-reconciles", defaultConcurrentReconciles, "how many objects of one kind (Lookups, Topics, Channels, Backlogs) each controller reconciles at once")
	fs.DurationVar(&c.drainJobDeadline, "drain-job-deadline", controllers.DefaultDrainJobDeadline, "how long a drain Job may serve a departed pod's backlog before it fails and another is started (its activeDeadlineSeconds)")
	fs.StringVar(&c.sidecarImage, "sidecar-image", "", "image holding queued and lookupd, run by managed Lookups that name no image ("+controllers.DefaultImage+" when empty)")
	hook := &c.hook
	fs.IntVar(&hook.Port, "webhook-port", injection.DefaultPort, "port the webhook server listens on")
	fs.StringVar(&hook.Host, "webhook-host", "", "address the webhook server listens on (all when empty)")
	fs.Func("webhook-cert-dns-names", "self-managed mode: more DNS names for the serving certificate, comma-separated, for a webhook called by URL (a manager outside the cluster: localhost)", func(s string) error {
		hook.Rotation.ExtraDNSNames = append(hook.Rotation.ExtraDNSNames, strings.Split(s, ",")...)
		return nil
	})
	fs.StringVar(&hook.CertDir, "webhook-cert-dir", "", "directory of the webhook's tls.crt and tls.key ($TMPDIR/k8s-webhook-server/serving-certs when empty); written by the manager in self-managed mode, so writable then")
	fs.StringVar((*string)(&hook.CertMode), "webhook-cert-mode", string(injection.SelfManaged), "where the webhook certificate comes from: "+string(injection.SelfManaged)+" (the manager keeps a CA and a certificate in --webhook-secret, renews them and patches the caBundle of "+injection.ConfigurationName+") or "+string(injection.External)+" (put in --webhook-cert-dir by someone else, e.g. cert-manager)")
	fs.StringVar(&hook.SecretName, "webhook-secret", injection.DefaultSecretName, "self-managed mode: the Secret, in the manager's namespace, holding the CA and the serving certificate (created when missing)")
	fs.StringVar(&hook.ServiceName, "webhook-service", injection.DefaultServiceName, "self-managed mode: the webhook Service, in the manager's namespace, the certificate is made out to")
	fs.StringVar(&hook.Namespace, "namespace", namespaceDefault(), "the manager's namespace: where the webhook Secret and Service are ($POD_NAMESPACE, else "+injection.DefaultNamespace+")")
	// --kubeconfig, which ctrl.GetConfig reads; controller-runtime puts it
	// on flag.CommandLine only.
	crconfig.RegisterFlags(fs)
	c.zap = logDefaults(isTerminal(os.Stderr))
	c.zap.BindFlags(fs)
	return fs
}

// logDefaults are the log options before zap's flags: readable text for a
// person at a terminal, JSON (what log collectors parse) otherwise, as in
// a cluster; an error is one line, without a stack trace (the error says
// what failed; --zap-stacktrace-level=error brings traces back). The
// --zap-* flags override them.
func logDefaults(terminal bool) zap.Options {
	o := zap.Options{StacktraceLevel: zapcore.PanicLevel}
	if terminal {
		// NewEncoder, not Encoder (zap.ConsoleEncoder): --zap-encoder
		// sets NewEncoder, and a set Encoder would win over it.
		o.NewEncoder = func(opts ...zap.EncoderConfigOption) zapcore.Encoder {
			cfg := uberzap.NewDevelopmentEncoderConfig()
			for _, opt := range opts {
				opt(&cfg)
			}
			return zapcore.NewConsoleEncoder(cfg)
		}
	}
	return o
}

// isTerminal reports whether f is a terminal (a character device), which
// is enough to tell a person's shell from a container's log pipe.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// namespaceDefault is $POD_NAMESPACE (the downward API sets it in
// cluster), else the namespace of config/.
func namespaceDefault() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	return injection.DefaultNamespace
}
