package queued

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sidequeue/sidequeue/internal/logging"
	"github.com/sidequeue/sidequeue/internal/protocol"
	"github.com/sidequeue/sidequeue/internal/shell"
	"github.com/sidequeue/sidequeue/internal/tcpserver"
)

// Version is what queued reports as its version (nsqd's, for clients that
// check features by version).
const Version = "1.3.0"

// Daemon is one queued: its topics, listeners and background loops.
type Daemon struct {
	clientIDSeq atomic.Int64
	options     atomic.Pointer[Options]
	startTime   time.Time
	ids         *idFactory

	topicsMu sync.RWMutex
	topics   map[string]*Topic
	meta     metadataStore

	dataPathLock *os.File // held open, and so locked, while the daemon runs
	recordLimit  int64    // the largest message body the data path may hold

	tcpListener   net.Listener
	httpListener  net.Listener
	httpsListener net.Listener // nil: no TLS cert and key, or no --https-address
	tcp           *tcpserver.Server
	tls           *tls.Config
	clients       clientSet
	drain         drainState
	summary       summaryState
	healthState   healthState
	space         spaceGuard
	lookup        *lookupPeers

	log   *logging.Logger
	shell *shell.Shell // the loops and the exit: once it begins, no loop is started, no topic created
}

// New validates opts, binds the listeners and loads the topics and
// channels saved in the data path. Main starts serving.
func New(opts *Options) (*Daemon, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	if opts.DrainOnly {
		if err := checkDrainOnlyPath(opts.DataPath); err != nil {
			return nil, err
		}
	}
	if opts.DataPath == "" {
		cwd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		opts.DataPath = cwd
	}
	d := &Daemon{
		startTime: time.Now(),
		ids:       newIDFactory(opts.NodeID),
		topics:    map[string]*Topic{},
		log:       logging.New(opts.LogPrefix, opts.LogLevel, opts.Logf),
		shell:     shell.New(),
	}
	d.meta.d, d.drain.d, d.summary.d = d, d, d
	d.options.Store(opts)
	var err error
	if d.dataPathLock, err = claimDataPath(opts.DataPath); err != nil {
		return nil, err
	}
	if err := d.start(); err != nil {
		d.dataPathLock.Close()
		return nil, err
	}
	return d, nil
}

// start binds the listeners and loads the topics and channels saved in the
// data path.
func (d *Daemon) start() error {
	opts := d.opts()
	d.tcp = tcpserver.New((&protocolV2{d: d}).serve)
	d.tcp.Logf = func(format string, args ...any) { d.log.Logf("WARN", format, args...) }
	var err error
	if d.tls, err = buildTLSConfig(opts); err != nil {
		return err
	}
	if d.tcpListener, d.httpListener, err = shell.Listen(opts.TCPAddress, opts.HTTPAddress); err != nil {
		return err
	}
	if d.httpsListener, err = listenHTTPS(opts.HTTPSAddress, d.tls); err != nil {
		d.closeListeners()
		return err
	}
	// Once the port is known, as nsqd does; nothing reads the options yet.
	opts.StatsdPrefix = expandStatsdPrefix(opts.StatsdPrefix, opts.BroadcastAddress, cmp.Or(opts.BroadcastHTTPPort, d.HTTPAddr().Port))
	d.lookup = newLookupPeers(d)
	if err := d.meta.load(); err != nil {
		d.closeListeners()
		return err
	}
	return nil
}

// closeListeners closes every bound listener: no new connection is taken.
func (d *Daemon) closeListeners() {
	d.tcpListener.Close()
	d.httpListener.Close()
	if d.httpsListener != nil {
		d.httpsListener.Close()
	}
}

// Check applies what nsqd's options imply (a client-auth policy means TLS
// is required) and refuses options a daemon cannot run with, reading no
// file: New calls it, and so does the injection webhook, for a sidecar's
// flags.
func (o *Options) Check() error {
	if o.TLSClientAuthPolicy != "" && o.TLSRequired == TLSNotRequired {
		o.TLSRequired = TLSRequired // as nsqd: asking for client certificates means TLS
	}
	return validateOptions(o)
}

func validateOptions(o *Options) error {
	switch {
	case o.NodeID < 0 || o.NodeID >= 1024:
		return fmt.Errorf("--node-id %d must be in [0,1024)", o.NodeID)
	case o.MemQueueSize < 0:
		return fmt.Errorf("--mem-queue-size %d must not be negative", o.MemQueueSize)
	case o.SyncEvery < 1:
		return fmt.Errorf("--sync-every %d must be at least 1", o.SyncEvery)
	case o.MaxMsgSize < 1 || o.MaxBodySize < o.MaxMsgSize:
		return fmt.Errorf("--max-body-size (%d) must be at least --max-msg-size (%d), which must be positive", o.MaxBodySize, o.MaxMsgSize)
	case o.MaxDeflateLevel < 1 || o.MaxDeflateLevel > 9:
		return fmt.Errorf("--max-deflate-level %d must be in [1,9]", o.MaxDeflateLevel)
	case o.TLSRequired != TLSNotRequired && (o.TLSCert == "" || o.TLSKey == ""):
		return fmt.Errorf("TLS is required (--tls-required, or --tls-client-auth-policy) but --tls-cert and --tls-key are not both set: set them, or drop the requirement")
	}
	return validateStatsOptions(o)
}

func (d *Daemon) opts() *Options { return d.options.Load() }

// TCPAddr and HTTPAddr are the bound addresses (useful with port 0).
func (d *Daemon) TCPAddr() *net.TCPAddr  { return d.tcpListener.Addr().(*net.TCPAddr) }
func (d *Daemon) HTTPAddr() *net.TCPAddr { return d.httpListener.Addr().(*net.TCPAddr) }

// Main serves until Exit is called.
func (d *Daemon) Main() error {
	d.logStart()                             // first: the registrar logs as soon as it starts
	d.shell.Locked(d.lookup.registrar.Start) // Exit, once begun, may be closing it
	if d.opts().DrainOnly {
		d.StartDrain(0) // before serving: not one publish is accepted
	}
	d.shell.Go(d.queueScanLoop)
	if d.opts().StatsdAddress != "" {
		d.shell.Go(d.statsdLoop)
	}
	if err := d.shell.Serve(d.Exit, d.servers()...); err != nil {
		return err
	}
	if n := d.drain.backlogLeft.Load(); n > 0 {
		return fmt.Errorf("%w: %d", ErrBacklogLeft, n)
	}
	return nil
}

// servers answer on each bound listener until it closes.
func (d *Daemon) servers() []func() error {
	servers := []func() error{
		func() error { return d.tcp.Serve(d.tcpListener) },
		func() error { return (&httpServer{d: d}).serve(d.httpListener) },
	}
	if d.httpsListener != nil {
		servers = append(servers, func() error { return (&httpServer{d: d, tls: true}).serve(d.httpsListener) })
	}
	return servers
}

// Exit stops serving, closes every topic and channel (keeping their
// messages on disk) and saves the metadata.
func (d *Daemon) Exit() { d.shell.Exit(d.shutdown, d.lookup.registrar.Close) }

// shutdown is Exit's work, done before Main returns.
func (d *Daemon) shutdown() {
	d.log.Logf("INFO", "EXIT: %s: stopping", d.shell.StopReason())
	held := d.backlog()
	d.closeListeners()
	if d.tcp != nil {
		d.tcp.CloseAll()
	}
	if err := d.meta.persist(); err != nil {
		d.log.Logf("ERROR", "failed to persist metadata - %s", err)
	}
	d.topicsMu.Lock()
	for _, t := range d.topics {
		if err := t.Close(); err != nil {
			d.log.Logf("ERROR", "closing topic %s: %v", t.name, err)
		}
	}
	d.topicsMu.Unlock()
	// Everything is on disk: the next daemon may have the data path,
	// as soon as this one is seen to exit.
	d.dataPathLock.Close()
	// Last: Main returns next, and the process may end.
	d.log.Logf("INFO", "EXIT: stopped; %d messages kept in %s", held, d.opts().DataPath)
}

// GetTopic returns the named topic, creating (and starting) it if need be.
func (d *Daemon) GetTopic(name string) (*Topic, error) {
	d.topicsMu.RLock()
	t, ok := d.topics[name]
	d.topicsMu.RUnlock()
	if ok {
		return t, t.usable()
	}
	if d.shell.Exiting() {
		return nil, errExiting // nothing new once Exit has begun: its lock may be gone
	}
	d.topicsMu.Lock()
	if t, ok = d.topics[name]; ok {
		d.topicsMu.Unlock()
		return t, t.usable()
	}
	t, err := newTopic(name, d)
	if err != nil {
		d.topicsMu.Unlock()
		return nil, err
	}
	d.topics[name] = t
	d.topicsMu.Unlock()
	if err := d.meta.persistExistence(t.ephemeral); err != nil {
		// A topic that would not survive a crash is not created: what
		// was published to it would be lost with it.
		d.topicsMu.Lock()
		if d.topics[name] == t {
			delete(d.topics, name)
		}
		d.topicsMu.Unlock()
		t.Close()
		return nil, fmt.Errorf("topic %s not created: %w", name, err)
	}
	d.log.Logf("INFO", "TOPIC(%s): created", name)
	d.lookup.topicCreated(t)
	if !d.meta.loading.Load() {
		d.lookup.precreateChannels(t)
		t.Start()
	}
	return t, nil
}

// The errors of the topic and channel lookups that mean "no such thing";
// every other error of theirs is a failure.
var (
	ErrTopicNotFound   = errors.New("topic does not exist")
	ErrChannelNotFound = errors.New("channel does not exist")
)

// GetExistingTopic returns the named topic, or ErrTopicNotFound.
func (d *Daemon) GetExistingTopic(name string) (*Topic, error) {
	d.topicsMu.RLock()
	defer d.topicsMu.RUnlock()
	t, ok := d.topics[name]
	if !ok {
		return nil, ErrTopicNotFound
	}
	return t, nil
}

// DeleteExistingTopic deletes a topic, its channels and their messages;
// ErrTopicNotFound when there is none.
// The metadata forgets it first, so a crash never brings it back; the name
// stays taken (publishes to it refused) until its files are gone, so that
// no new topic of that name opens them meanwhile.
func (d *Daemon) DeleteExistingTopic(name string) error {
	d.topicsMu.RLock()
	t, ok := d.topics[name]
	d.topicsMu.RUnlock()
	if !ok || !t.deleting.CompareAndSwap(false, true) {
		return ErrTopicNotFound // or going already
	}
	if err := d.meta.persistExistence(t.ephemeral); err != nil {
		t.deleting.Store(false)
		return fmt.Errorf("topic %s not deleted: %w", name, err)
	}
	err := t.Delete()
	d.topicsMu.Lock()
	if d.topics[name] == t {
		delete(d.topics, name)
	}
	d.topicsMu.Unlock()
	d.lookup.topicDeleted(t)
	return err
}

func (d *Daemon) deleteChannelByName(topic, channel string) {
	if t, err := d.GetExistingTopic(topic); err == nil {
		t.DeleteExistingChannel(channel)
	}
}

func isEphemeral(name string) bool { return protocol.Ephemeral(name) }
