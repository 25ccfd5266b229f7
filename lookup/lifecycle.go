package lookup

import (
	"fmt"
	"os"
	ossignal "os/signal"
	"syscall"

	"github.com/sidequeue/sidequeue/internal/cli"
	"github.com/sidequeue/sidequeue/internal/version"
)

// The start-up and shutdown lines are what a person running lookupd sees
// first and last, as nsqlookupd prints "TCP: listening on ...": which
// version, where it listens, and why it stopped.

// logStart writes the start-up lines, once both listeners are bound.
func (l *Lookupd) logStart() {
	l.logf("INFO", "%s, nsqlookupd protocol v%s, broadcast address %s", version.String(), Version, l.broadcastAddress())
	l.logf("INFO", "no data path: registrations live in memory; queue daemons register again after a restart")
	l.logf("INFO", "TCP: listening on %s", l.tcpListener.Addr())
	l.logf("INFO", "HTTP: listening on %s", l.httpListener.Addr())
}

func (l *Lookupd) broadcastAddress() string {
	if l.opts.BroadcastAddress != "" {
		return l.opts.BroadcastAddress
	}
	return l.hostname
}

// HandleSignals makes SIGINT and SIGTERM stop the daemon, naming the
// signal on the shutdown line. The signals are taken before it returns.
func (l *Lookupd) HandleSignals() {
	signals := make(chan os.Signal, 1)
	ossignal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		defer ossignal.Stop(signals)
		select {
		case sig := <-signals:
			l.stopBecause("received %s", cli.SignalName(sig))
			l.Exit()
		case <-l.exit:
		}
	}()
}

// stopBecause records why the daemon is stopping; the first reason given
// is the one the shutdown line reports.
func (l *Lookupd) stopBecause(format string, args ...any) {
	reason := fmt.Sprintf(format, args...)
	l.reason.CompareAndSwap(nil, &reason)
}

// stopReason is the recorded reason; a daemon embedded in a program that
// calls Exit itself was given none.
func (l *Lookupd) stopReason() string {
	if r := l.reason.Load(); r != nil {
		return *r
	}
	return "Exit called"
}
