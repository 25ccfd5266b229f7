package queued

import (
	"errors"
	"net"
	"net/http"
	"time"
)

// serveHTTP serves nsqd's HTTP API until the listener closes.
func (d *Daemon) serveHTTP(l net.Listener) error {
	srv := &http.Server{Handler: d.httpHandler(), ReadHeaderTimeout: 10 * time.Second}
	err := srv.Serve(l)
	if errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
