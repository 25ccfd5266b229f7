package lookup

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sidequeue/sidequeue/internal/tcpserver"
)

// Lookupd is one lookup daemon: its registrations and listeners.
type Lookupd struct {
	opts     *Options
	minLevel int
	hostname string
	db       *registry
	lookups  atomic.Int64 // /lookup requests answered, for /metrics

	tcpListener  net.Listener
	httpListener net.Listener
	tcp          *tcpserver.Server
	http         *http.Server

	reason   atomic.Pointer[string] // why it stops, for the shutdown line (lifecycle.go)
	exitOnce sync.Once
	exit     chan struct{}
	wg       sync.WaitGroup
}

// New checks opts and binds both listeners, so that a port taken is an
// error here and TCPAddr/HTTPAddr are known before Main.
func New(opts *Options) (*Lookupd, error) {
	if err := ParseLogLevel(opts.LogLevel); err != nil {
		return nil, err
	}
	hostname, _ := os.Hostname()
	l := &Lookupd{opts: opts, minLevel: minLevel(opts.LogLevel), hostname: hostname,
		db: newRegistry(), exit: make(chan struct{})}
	l.tcp = tcpserver.New(l.serveV1)
	l.tcp.Logf = func(format string, args ...any) { l.logf("WARN", format, args...) }
	var err error
	if l.tcpListener, err = net.Listen("tcp", opts.TCPAddress); err != nil {
		return nil, fmt.Errorf("listen on --tcp-address %s: %w", opts.TCPAddress, err)
	}
	if l.httpListener, err = net.Listen("tcp", opts.HTTPAddress); err != nil {
		l.tcpListener.Close()
		return nil, fmt.Errorf("listen on --http-address %s: %w", opts.HTTPAddress, err)
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
	errc := make(chan error, 2)
	l.goLoop(func() { errc <- l.tcp.Serve(l.tcpListener) })
	l.goLoop(func() {
		err := l.http.Serve(l.httpListener)
		if errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
			err = nil
		}
		errc <- err
	})
	select {
	case err := <-errc:
		if err != nil {
			l.stopBecause("error: %v", err)
		}
		l.Exit()
		return err
	case <-l.exit:
		return nil
	}
}

func (l *Lookupd) goLoop(f func()) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		f()
	}()
}

// Exit closes the listeners and every connection, and waits for them.
// Registrations live in memory only, as in nsqlookupd: the queue daemons
// register again with whichever lookupd comes up.
func (l *Lookupd) Exit() {
	l.exitOnce.Do(func() {
		l.logf("INFO", "EXIT: %s: stopping", l.stopReason())
		l.tcpListener.Close()
		l.http.Close()
		l.tcp.CloseAll()
		// Before close(exit): Main returns then, and the process may end.
		l.logf("INFO", "EXIT: stopped")
		close(l.exit)
		l.wg.Wait()
	})
}
