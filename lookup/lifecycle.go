package lookup

import (
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
	l.log.Logf("INFO", "%s, nsqlookupd protocol v%s, broadcast address %s", version.String(), Version, l.broadcastAddress())
	l.log.Logf("INFO", "no data path: registrations live in memory; queue daemons register again after a restart")
	l.log.Logf("INFO", "TCP: listening on %s", l.tcpListener.Addr())
	l.log.Logf("INFO", "HTTP: listening on %s", l.httpListener.Addr())
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
			l.shell.StopBecause("received %s", cli.SignalName(sig))
			l.Exit()
		case <-l.shell.Done():
		}
	}()
}
