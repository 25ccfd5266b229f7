package lookup

import (
	"errors"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/sidequeue/sidequeue/internal/logging"
	"github.com/sidequeue/sidequeue/internal/shell"
	"github.com/sidequeue/sidequeue/internal/tcpserver"
)

// Lookupd is one lookup daemon: its registrations and listeners.
type Lookupd struct {
	opts     *Options
	log      *logging.Logger
	hostname string
	db       *registry
	lookups  atomic.Int64 // /lookup requests answered, for /metrics

	tcpListener  net.Listener
	httpListener net.Listener
	tcp          *tcpserver.Server
	http         *http.Server

	shell *shell.Shell
}

// New checks opts and binds both listeners, so that a port taken is an
// error here and TCPAddr/HTTPAddr are known before Main.
func New(opts *Options) (*Lookupd, error) {
	if _, err := logging.ParseLevel(opts.LogLevel); err != nil {
		return nil, err
	}
	hostname, _ := os.Hostname()
	l := &Lookupd{opts: opts, log: logging.New(opts.LogPrefix, opts.LogLevel, opts.Logf), hostname: hostname,
		db: newRegistry(), shell: shell.New()}
	l.tcp = tcpserver.New(l.serveV1)
	l.tcp.Logf = func(format string, args ...any) { l.log.Logf("WARN", format, args...) }
	var err error
	if l.tcpListener, l.httpListener, err = shell.Listen(opts.TCPAddress, opts.HTTPAddress); err != nil {
		return nil, err
	}
	l.http = &http.Server{Handler: l.httpHandler(), ReadHeaderTimeout: 10 * time.Second}
	return l, nil
}

// TCPAddr and HTTPAddr are the bound addresses (useful with port 0).
func (l *Lookupd) TCPAddr() *net.TCPAddr  { return l.tcpListener.Addr().(*net.TCPAddr) }
func (l *Lookupd) HTTPAddr() *net.TCPAddr { return l.httpListener.Addr().(*net.TCPAddr) }

// Main serves until Exit is called, or until a listener fails.
func (l *Lookupd) Main() error {
	l.logStart()
	return l.shell.Serve(l.Exit,
		func() error { return l.tcp.Serve(l.tcpListener) },
		func() error {
			err := l.http.Serve(l.httpListener)
			if errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		})
}

// Exit closes the listeners and every connection, and waits for them.
// Registrations live in memory only, as in nsqlookupd: the queue daemons
// register again with whichever lookupd comes up.
func (l *Lookupd) Exit() { l.shell.Exit(l.shutdown, nil) }

func (l *Lookupd) shutdown() {
	l.log.Logf("INFO", "EXIT: %s: stopping", l.shell.StopReason())
	l.tcpListener.Close()
	l.http.Close()
	l.tcp.CloseAll()
	// Last: Main returns next, and the process may end.
	l.log.Logf("INFO", "EXIT: stopped")
}
