// Package injection serves sidecar injection in the manager: the admission
// handler at /inject-pod (the mutation itself is sidecar/inject's), the
// counter and events of its decisions, and the webhook's serving
// certificate, either kept by the manager in a Secret (self-managed) or
// read from a directory that something else fills (external).
// docs/design/injection.md tells why it is built this way.
package injection

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/sidequeue/sidequeue/sidecar/inject"
)

// Names of config/webhook and the manager flags' defaults.
const (
	// Path is where the API server posts AdmissionReviews.
	Path = "/inject-pod"
	// ConfigurationName is the MutatingWebhookConfiguration whose caBundle
	// the self-managed mode keeps.
	ConfigurationName  = "sidequeue-injector"
	DefaultPort        = 9443
	DefaultSecretName  = "sidequeue-webhook-cert"
	DefaultServiceName = "sidequeue-webhook"
	// DefaultNamespace is the operator's namespace in config/ (kustomize).
	DefaultNamespace = "sidequeue-system"
)

// CertMode says where the webhook's serving certificate comes from.
type CertMode string

const (
	// SelfManaged: the manager keeps a CA and a serving certificate in a
	// Secret, rotates them, and patches the configuration's caBundle.
	SelfManaged CertMode = "self-managed"
	// External: tls.crt and tls.key in the cert dir, put there by someone
	// else (cert-manager and a mounted Secret, say).
	External CertMode = "external"
)

// Options configure the webhook; zero values take the defaults above.
type Options struct {
	// Host and Port the webhook server listens on (all addresses, 9443).
	Host string
	Port int
	// CertDir holds tls.crt and tls.key (controller-runtime's default,
	// $TMPDIR/k8s-webhook-server/serving-certs, when empty). Self-managed
	// mode writes them there itself, so it must be writable.
	CertDir  string
	CertMode CertMode
	// Namespace is the manager's own: where the self-managed Secret is,
	// and the webhook Service's, which the certificate is made out to.
	Namespace   string
	SecretName  string
	ServiceName string
	// Rotation tunes self-managed certificates.
	Rotation Rotation
	// Inject is what the mutation needs beyond the pod.
	Inject inject.Config
}

// Rotation tunes the self-managed certificates; zero values take the
// defaults in brackets.
type Rotation struct {
	CAValidity   time.Duration // how long a CA is valid [10 years]
	CertValidity time.Duration // how long a serving certificate is valid [1 year]
	RenewBefore  time.Duration // renew a certificate this long before it expires [90 days]
	CheckEvery   time.Duration // how often expiry is checked [12 hours]
	// ExtraDNSNames are added to the serving certificate's names (tests
	// call the webhook at localhost).
	ExtraDNSNames []string
}

// Webhook is the injection webhook: its server, its handler, and the
// machinery of its certificates.
type Webhook struct {
	o    Options
	cert *servingCert
}

// New checks o and fills in its defaults.
func New(o Options) (*Webhook, error) {
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.CertDir == "" {
		o.CertDir = filepath.Join(os.TempDir(), "k8s-webhook-server", "serving-certs")
	}
	if o.CertMode == "" {
		o.CertMode = SelfManaged
	}
	if o.SecretName == "" {
		o.SecretName = DefaultSecretName
	}
	if o.ServiceName == "" {
		o.ServiceName = DefaultServiceName
	}
	switch o.CertMode {
	case SelfManaged:
		if o.Namespace == "" {
			return nil, fmt.Errorf("--webhook-cert-mode=%s needs the manager's namespace", SelfManaged)
		}
	case External:
	default:
		return nil, fmt.Errorf("unknown --webhook-cert-mode %q: %s or %s", o.CertMode, SelfManaged, External)
	}
	return &Webhook{o: o, cert: newServingCert(o.CertDir)}, nil
}

// Server is the webhook server to give the manager (ctrl.Options
// WebhookServer): it serves whatever certificate the cert dir holds, from
// the moment it holds one, and reloads it when it changes.
func (w *Webhook) Server() webhook.Server {
	return webhook.NewServer(webhook.Options{
		Host: w.o.Host, Port: w.o.Port, CertDir: w.o.CertDir,
		TLSOpts: []func(*tls.Config){func(c *tls.Config) {
			c.GetCertificate = w.cert.GetCertificate
			// HTTP/2 off, as kubebuilder scaffolds it (HTTP/2 rapid
			// reset and stream cancellation, CVE-2023-44487/39325); the
			// API server speaks HTTP/1.1 to webhooks as well.
			c.NextProtos = []string{"http/1.1"}
		}},
	})
}

// Setup registers the handler on mgr's webhook server (the one Server
// returned), starts the certificates' machinery of the chosen mode, and adds
// readiness checks that fail until the webhook serves a valid certificate.
func (w *Webhook) Setup(mgr ctrl.Manager) error {
	h := &Handler{
		Reader:   mgr.GetAPIReader(),
		Recorder: mgr.GetEventRecorder("sidequeue-injector"),
		Config:   w.o.Inject,
		Decoder:  admission.NewDecoder(mgr.GetScheme()),
	}
	srv := mgr.GetWebhookServer()
	srv.Register(Path, &admission.Webhook{Handler: h})
	if err := mgr.Add(w.cert); err != nil {
		return err
	}
	if w.o.CertMode == SelfManaged {
		ready, err := w.selfManaged(mgr)
		if err != nil {
			return fmt.Errorf("self-managed webhook certificates: %w", err)
		}
		if err := mgr.AddReadyzCheck("webhook-ca-bundle", closed(ready, "the CA is not yet in "+ConfigurationName+"'s caBundle")); err != nil {
			return err
		}
	}
	if err := mgr.AddReadyzCheck("webhook-server", srv.StartedChecker()); err != nil {
		return err
	}
	return mgr.AddReadyzCheck("webhook-certificate", servesValidCert(w.o.Host, w.o.Port))
}
