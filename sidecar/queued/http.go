package queued

import (
	"errors"
	"net"
	"net/http"
	"time"
)

// httpServer answers nsqd's HTTP API (http_api.go) for the daemon d, on the
// plain HTTP listener or, with tls set, on the HTTPS one (https.go).
type httpServer struct {
	d   *Daemon
	tls bool
}

// serve answers on l until the listener closes.
func (s *httpServer) serve(l net.Listener) error {
	srv := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
	if s.tls {
		srv.ErrorLog = httpsErrorLog(s.d.log)
	}
	err := srv.Serve(l)
	if errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// handler is the HTTP API, or nsqd's TLS_REQUIRED refusal of everything on
// the plain listener when TLS is required.
func (s *httpServer) handler() http.Handler {
	if s.refusesPlainHTTP() {
		return http.HandlerFunc(s.refusePlainHTTP)
	}
	return s.httpHandler()
}
