package queued

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"log"
	"net"
	"net/http"

	"github.com/sidequeue/sidequeue/internal/logging"
)

// HTTPS is nsqd's: with --tls-cert and --tls-key set, the HTTP API is also
// served on --https-address, under the TCP protocol's TLS configuration
// (tls.go), so --tls-client-auth-policy and --tls-root-ca-file decide which
// client certificates are accepted there too. --tls-required=true turns the
// plain HTTP listener away from everything, /ping included: it answers 403
// TLS_REQUIRED with the HTTPS port, which nsqd's own HTTP clients follow.
// --tls-required=tcp-https requires TLS of TCP clients only; plain HTTP is
// served as usual.

// listenHTTPS binds --https-address when TLS is configured (cfg not nil);
// otherwise it binds nothing and returns nil, as nsqd.
func listenHTTPS(addr string, cfg *tls.Config) (net.Listener, error) {
	if cfg == nil || addr == "" {
		return nil, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on --https-address %s: %w", addr, err)
	}
	return tls.NewListener(l, cfg), nil
}

// HTTPSAddr is the bound HTTPS address (useful with port 0), or nil when
// HTTPS is not served.
func (d *Daemon) HTTPSAddr() *net.TCPAddr {
	if d.httpsListener == nil {
		return nil
	}
	return d.httpsListener.Addr().(*net.TCPAddr)
}

// httpsPort is the port the TLS_REQUIRED answer names: 0 when HTTPS is
// not served (no --https-address), as nsqd says then.
func (d *Daemon) httpsPort() int {
	if a := d.HTTPSAddr(); a != nil {
		return a.Port
	}
	return 0
}

// refusesPlainHTTP reports whether this listener turns every request away:
// the plain one under --tls-required=true.
func (s *httpServer) refusesPlainHTTP() bool {
	return !s.tls && s.d.opts().TLSRequired == TLSRequired
}

// refusePlainHTTP is nsqd's answer, byte for byte, to any request on the
// plain HTTP listener when TLS is required.
func (s *httpServer) refusePlainHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("X-NSQ-Content-Type", "nsq; version=1.0")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(w, `{"message": "TLS_REQUIRED", "https_port": %d}`, s.d.httpsPort())
}

// httpsErrorLog takes what net/http reports on the HTTPS listener (failed
// handshakes: no client certificate, an untrusted one) to the daemon's log
// at WARN, as nsqd logs it, instead of to standard error.
func httpsErrorLog(l *logging.Logger) *log.Logger {
	return log.New(warnWriter{l}, "HTTPS: ", 0)
}

type warnWriter struct{ log *logging.Logger }

func (w warnWriter) Write(p []byte) (int, error) {
	w.log.Logf("WARN", "%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}
