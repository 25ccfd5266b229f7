package injection

import (
	"context"
	"fmt"
	"time"

	"github.com/open-policy-agent/cert-controller/pkg/rotator"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Self-managed certificates: open-policy-agent/cert-controller keeps a CA
// and a serving certificate signed by it in the Secret, renews them before
// they expire and writes the CA into the configuration's caBundle. It reads
// the Secret and the configuration through an informer (list and watch);
// it updates, never creates. It only needs the two objects below, but RBAC
// cannot narrow list and watch to one name, so the Secret rule is a Role in
// the operator's namespace (kustomize's namespace; the chart's).
// +kubebuilder:rbac:groups="",namespace=sidequeue-system,resources=secrets,verbs=get;list;watch;create;update
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations,verbs=list;watch
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations,verbs=update,resourceNames=sidequeue-injector

// fieldOwner names the manager in the configuration's managedFields.
const fieldOwner = "sidequeue-manager"

// bootstrapTimeout bounds the creation of the Secret before the manager
// starts.
const bootstrapTimeout = 30 * time.Second

// selfManaged sets up cert-controller and the copy of its Secret into the
// cert dir. ready is closed once the certificate is in the cert dir and the
// CA in the configuration.
//
// cert-controller's pitfalls, and what is done about each:
//   - it updates the Secret and fails (the manager with it) when the
//     Secret is missing: ensureSecret creates it before the manager starts;
//   - it expects the Secret mounted in the cert dir by the kubelet, which
//     takes up to a minute or two to show a change (cert-controller issue
//     50), and out of cluster nothing mounts it: certFiles writes it there
//     at once, on every replica;
//   - with RequireLeaderElection only the leader ever becomes ready
//     (cert-controller issue 53): every replica runs it instead. They do
//     not fight: every write is an update at the resourceVersion read, so
//     the first writer wins and the others read its certificate and find
//     it valid;
//   - it writes caBundle before this replica serves the new certificate
//     unless told to wait (EnableReadinessCheck), which it is.
//
// A new CA replaces the old one in caBundle at once rather than joining it
// (cert-controller issue 13), so a CA renewal (every ten years by default)
// can fail the calls made between the caBundle write and the reload of the
// new certificate, a few milliseconds; a serving certificate renewal (every
// year) keeps the CA and fails none.
func (w *Webhook) selfManaged(mgr ctrl.Manager) (<-chan struct{}, error) {
	key := types.NamespacedName{Namespace: w.o.Namespace, Name: w.o.SecretName}
	ctx, cancel := context.WithTimeout(context.Background(), bootstrapTimeout)
	defer cancel()
	if err := ensureSecret(ctx, mgr.GetAPIReader(), mgr.GetClient(), key); err != nil {
		return nil, err
	}
	svc := w.o.ServiceName + "." + w.o.Namespace + ".svc"
	r := w.o.Rotation
	ready := make(chan struct{})
	if err := rotator.AddRotator(mgr, &rotator.CertRotator{
		SecretKey:      key,
		CertDir:        w.o.CertDir,
		CAName:         "sidequeue-injector-ca",
		CAOrganization: "sidequeue",
		DNSName:        svc,
		ExtraDNSNames: append([]string{w.o.ServiceName, w.o.ServiceName + "." + w.o.Namespace, svc + ".cluster.local"},
			r.ExtraDNSNames...),
		IsReady:                ready,
		Webhooks:               []rotator.WebhookInfo{{Name: ConfigurationName, Type: rotator.Mutating}},
		FieldOwner:             fieldOwner,
		RequireLeaderElection:  false,
		EnableReadinessCheck:   true,
		CaCertDuration:         r.CAValidity,
		ServerCertDuration:     r.CertValidity,
		LookaheadInterval:      r.RenewBefore,
		RotationCheckFrequency: r.CheckEvery,
	}); err != nil {
		return nil, err
	}
	if err := addCertFiles(mgr, key, w.o.CertDir); err != nil {
		return nil, err
	}
	return ready, nil
}

// ensureSecret creates the Secret, empty, unless it exists; several
// replicas may race to, and one wins.
func ensureSecret(ctx context.Context, r client.Reader, c client.Writer, key types.NamespacedName) error {
	err := r.Get(ctx, key, &corev1.Secret{})
	if !apierrors.IsNotFound(err) {
		if err != nil {
			return fmt.Errorf("reading Secret %s: %w", key, err)
		}
		return nil
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name,
		Labels: map[string]string{"app.kubernetes.io/name": "sidequeue", "app.kubernetes.io/component": "webhook"}}}
	if err := c.Create(ctx, s); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating Secret %s: %w", key, err)
	}
	return nil
}
