package injection

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
)

// servingCert is the webhook server's certificate: tls.crt and tls.key in
// the cert dir, loaded as soon as they are there and reloaded whenever they
// change, by controller-runtime's certwatcher (fsnotify, and a poll every
// 10 s). controller-runtime's own server would fail to start when the
// files are not there yet, as they are not on a fresh self-managed install;
// until they are, this one refuses TLS handshakes, so readiness fails.
type servingCert struct {
	certPath, keyPath string
	watcher           atomic.Pointer[certwatcher.CertWatcher]
}

// loadEvery is how often servingCert looks for the files until they exist.
const loadEvery = 200 * time.Millisecond

func newServingCert(dir string) *servingCert {
	return &servingCert{certPath: filepath.Join(dir, "tls.crt"), keyPath: filepath.Join(dir, "tls.key")}
}

var errNoCert = errors.New("no serving certificate loaded yet")

// GetCertificate is the server's tls.Config.GetCertificate.
func (s *servingCert) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if w := s.watcher.Load(); w != nil {
		return w.GetCertificate(hello)
	}
	return nil, errNoCert
}

// Start waits for the files, then watches them until ctx ends.
func (s *servingCert) Start(ctx context.Context) error {
	t := time.NewTicker(loadEvery)
	defer t.Stop()
	for {
		w, err := certwatcher.New(s.certPath, s.keyPath)
		if err == nil {
			s.watcher.Store(w)
			return w.Start(ctx)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// NeedLeaderElection is false: every replica serves the webhook.
func (s *servingCert) NeedLeaderElection() bool { return false }

// servesValidCert is a readiness check: the webhook server completes a TLS
// handshake with a certificate that is valid now.
func servesValidCert(host string, port int) healthz.Checker {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	return func(*http.Request) error {
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second},
			Config: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // the check reads the certificate, it trusts nothing
		conn, err := d.Dial("tcp", addr)
		if err != nil {
			return fmt.Errorf("webhook server: %w", err)
		}
		defer conn.Close()
		certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
		if len(certs) == 0 {
			return errors.New("webhook server sent no certificate")
		}
		now := time.Now()
		if c := certs[0]; now.Before(c.NotBefore) || now.After(c.NotAfter) {
			return fmt.Errorf("webhook certificate valid from %s to %s, not now", c.NotBefore, c.NotAfter)
		}
		return nil
	}
}

// closed is a readiness check that passes once ch is closed.
func closed(ch <-chan struct{}, notYet string) healthz.Checker {
	return func(*http.Request) error {
		select {
		case <-ch:
			return nil
		default:
			return errors.New(notYet)
		}
	}
}
