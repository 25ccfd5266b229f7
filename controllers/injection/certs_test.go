package injection_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	admissionregv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sidequeue/sidequeue/controllers/injection"
	"github.com/sidequeue/sidequeue/internal/testenv"
)

// The suite's manager runs in self-managed mode: by the time tests run it
// has created its Secret, filled it, put its CA in the configuration's
// caBundle (envtest's own CA was there) and serves its certificate.
func TestSelfManagedCertificates(t *testing.T) {
	if secretBefore {
		t.Fatal("the webhook Secret existed before the manager started; the test cannot tell it created it")
	}
	var s corev1.Secret
	must(t, k8s.Get(context.Background(), secretKey, &s))
	for _, k := range []string{"ca.crt", "ca.key", "tls.crt", "tls.key"} {
		if len(s.Data[k]) == 0 {
			t.Fatalf("Secret %s has no %s", secretKey, k)
		}
	}
	var cfg admissionregv1.MutatingWebhookConfiguration
	must(t, k8s.Get(context.Background(), client.ObjectKey{Name: injection.ConfigurationName}, &cfg))
	if len(cfg.Webhooks) != 2 {
		t.Fatalf("%d webhooks in %s", len(cfg.Webhooks), cfg.Name)
	}
	for _, w := range cfg.Webhooks {
		if !bytes.Equal(w.ClientConfig.CABundle, s.Data["ca.crt"]) {
			t.Errorf("webhook %s: caBundle is not the Secret's CA", w.Name)
		}
	}
	leaf := served(t, s.Data["ca.crt"])
	if !bytes.Equal(pemBlock(t, s.Data["tls.crt"]), leaf.Raw) {
		t.Error("the server does not serve the Secret's certificate")
	}
	if want := injection.DefaultServiceName + "." + operatorNS + ".svc"; !slices.Contains(leaf.DNSNames, want) {
		t.Errorf("certificate names %v lack %s", leaf.DNSNames, want)
	}
	if got, err := os.ReadFile(filepath.Join(certDir, "tls.crt")); err != nil || !bytes.Equal(got, s.Data["tls.crt"]) {
		t.Errorf("the cert dir holds another certificate (%v)", err)
	}
}

// A serving certificate close to its expiry is renewed, the new one served
// without a restart, and no pod creation fails meanwhile.
func TestCertificateRotationFailsNoCall(t *testing.T) {
	ns := namespace(t, optedIn, true)
	var s corev1.Secret
	must(t, k8s.Get(context.Background(), secretKey, &s))
	caCert, caKey := parseCA(t, s.Data["ca.crt"], s.Data["ca.key"])
	original := s.Data["tls.crt"]

	load := startLoad(t, ns)
	defer load.stop()
	load.waitCreated(t, 5)

	// A certificate of the same CA that expires in an hour: well within
	// the 90 days before expiry when the rotator renews.
	nearCert, nearKey := issue(t, caCert, caKey, time.Now().Add(time.Hour),
		injection.DefaultServiceName+"."+operatorNS+".svc", "localhost")
	must(t, updateSecret(secretKey, map[string][]byte{"tls.crt": nearCert, "tls.key": nearKey}))

	var renewed []byte
	testenv.Within(t, settle, "the certificate to be renewed", func() bool {
		var cur corev1.Secret
		must(t, k8s.Get(context.Background(), secretKey, &cur))
		c := cur.Data["tls.crt"]
		if bytes.Equal(c, nearCert) || bytes.Equal(c, original) {
			return false
		}
		renewed = c
		return true
	})
	if notAfter := parseCert(t, renewed).NotAfter; time.Until(notAfter) < 180*24*time.Hour {
		t.Fatalf("renewed certificate expires %s", notAfter)
	}
	testenv.Within(t, settle, "the renewed certificate to be served", func() bool {
		return bytes.Equal(served(t, s.Data["ca.crt"]).Raw, pemBlock(t, renewed))
	})
	load.waitCreated(t, load.created()+5)
	load.stop()
	if n, err := load.failures(); n > 0 {
		t.Fatalf("%d of %d pod creations failed across the rotation, the first: %v", n, load.created()+n, err)
	}
}

// load creates pods asking for the sidecar, one after the other, until
// stopped.
type load struct {
	mu        sync.Mutex
	ok, fails int
	firstErr  error
	done      chan struct{}
	stopOnce  sync.Once
	stopped   chan struct{}
}

func startLoad(t testing.TB, ns string) *load {
	l := &load{done: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(l.stopped)
		for {
			select {
			case <-l.done:
				return
			default:
			}
			pod := newPod(ns, "", asks, nil)
			pod.GenerateName = "load-"
			err := k8s.Create(context.Background(), pod)
			l.mu.Lock()
			if err != nil {
				l.fails++
				if l.firstErr == nil {
					l.firstErr = err
				}
			} else {
				l.ok++
			}
			l.mu.Unlock()
		}
	}()
	return l
}

func (l *load) stop() {
	l.stopOnce.Do(func() { close(l.done) })
	<-l.stopped
}

func (l *load) created() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok
}

func (l *load) failures() (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fails, l.firstErr
}

func (l *load) waitCreated(t testing.TB, n int) {
	t.Helper()
	testenv.Within(t, settle, strconv.Itoa(n)+" pods created", func() bool {
		if f, err := l.failures(); f > 0 {
			t.Fatalf("pod creation failed: %v", err)
		}
		return l.created() >= n
	})
}

// updateSecret sets keys of the Secret, retrying when the rotator wrote
// it in between.
func updateSecret(key client.ObjectKey, data map[string][]byte) error {
	for {
		var s corev1.Secret
		if err := k8s.Get(context.Background(), key, &s); err != nil {
			return err
		}
		for k, v := range data {
			s.Data[k] = v
		}
		err := k8s.Update(context.Background(), &s)
		if !apierrors.IsConflict(err) {
			return err
		}
	}
}

// served is the certificate the webhook server presents to a client that
// trusts caPEM and asks for localhost, as the API server does here.
func served(t testing.TB, caPEM []byte) *x509.Certificate {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return dial(t, hookPort, &tls.Config{RootCAs: pool, ServerName: "localhost"})
}

func dial(t testing.TB, port int, cfg *tls.Config) *x509.Certificate {
	t.Helper()
	conn, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cfg)
	if err != nil {
		t.Fatalf("TLS handshake with the webhook server: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

func pemBlock(t testing.TB, data []byte) []byte {
	t.Helper()
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatal("not PEM")
	}
	return b.Bytes
}

func parseCert(t testing.TB, data []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(pemBlock(t, data))
	must(t, err)
	return c
}

func parseCA(t testing.TB, certPEM, keyPEM []byte) (*x509.Certificate, any) {
	t.Helper()
	key, err := x509.ParsePKCS1PrivateKey(pemBlock(t, keyPEM))
	must(t, err)
	return parseCert(t, certPEM), key
}

// newCA is a CA of the test's own.
func newCA(t testing.TB) (*x509.Certificate, any) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	must(t, err)
	c, err := x509.ParseCertificate(der)
	must(t, err)
	return c, key
}

// issue signs a serving certificate for names, valid until notAfter, and
// returns it and its key as PEM.
func issue(t testing.TB, ca *x509.Certificate, caKey any, notAfter time.Time, names ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	must(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	must(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}
