package queued

import (
	"errors"
	"net"
	"net/http"
	"time"
)

// httpServer answers nsqd's HTTP API (http_api.go) for the daemon d.
type httpServer struct{ d *Daemon }

// serve answers on l until the listener closes.
func (s *httpServer) serve(l net.Listener) error {
	srv := &http.Server{Handler: s.httpHandler(), ReadHeaderTimeout: 10 * time.Second}
	err := srv.Serve(l)
	if errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
