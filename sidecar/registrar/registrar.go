// Package registrar keeps a queue daemon registered with every lookup daemon,
// as nsqd v1.3.0's lookup loop does, but with lookupd addresses that are DNS
// names re-resolved periodically (nsqio/nsq issue 1233): a name behind which
// lookupd pods come and go (a headless Service) is followed, one connection
// per resolved address.
//
// Per connection, the behaviour is nsqd's: IDENTIFY, then REGISTER of every
// topic and channel the daemon holds (on every (re)connect), then the
// REGISTER/UNREGISTER changes as they happen, and a PING every PingInterval.
package registrar

import (
	"context"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sidequeue/sidequeue/internal/lookupwire"
)

// Registration names a topic (Channel "") or a channel of a topic.
type Registration struct{ Topic, Channel string }

// Resolver turns a host name into addresses. net.DefaultResolver is one.
//
// Each returned entry is either a bare IP, which is combined with the port of
// the configured address (what net.Resolver returns), or an "IP:port" pair,
// used as it is. Pairs let tests (several fake lookupds on 127.0.0.1) and
// SRV-style resolvers point at distinct ports behind one name.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// Identity is what the daemon announces in IDENTIFY. nsqlookupd refuses an
// IDENTIFY without BroadcastAddress, TCPPort, HTTPPort and Version.
type Identity struct {
	BroadcastAddress string // default: Hostname, as nsqd
	Hostname         string // default: os.Hostname()
	TCPPort          int
	HTTPPort         int
	Version          string
}

// Options configure a Registrar; zero values take the defaults noted.
type Options struct {
	Addresses       []string      // lookupd TCP addresses, host:port
	ResolveInterval time.Duration // default 5s
	Resolver        Resolver      // default net.DefaultResolver
	Identity        Identity
	PingInterval    time.Duration                    // default 15s, as nsqd
	Logf            func(format string, args ...any) // default: discard
}

// Registrar owns the connections to the lookup daemons.
type Registrar struct {
	opts     Options
	snapshot func() []Registration
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup // the resolve loop and every peer goroutine
	start    sync.Once

	mu    sync.Mutex
	peers map[string]*peer // by resolved "IP:port"

	addrsMu      sync.Mutex
	addrs        []string      // replaces opts.Addresses once SetAddresses is called
	addrsChanged chan struct{} // wakes the resolve loop
}

// New prepares a Registrar; nothing runs until Start. snapshot must return
// every registration the daemon currently holds, and may be called
// concurrently (once per (re)connect of each lookupd). nsqd sends one
// topic-level entry for a topic without channels and one entry per channel
// otherwise (REGISTER of a channel registers its topic too).
func New(opts Options, snapshot func() []Registration) *Registrar {
	opts = withDefaults(opts)
	ctx, cancel := context.WithCancel(context.Background())
	return &Registrar{
		opts: opts, snapshot: snapshot, ctx: ctx, cancel: cancel,
		peers: make(map[string]*peer), addrs: opts.Addresses,
		addrsChanged: make(chan struct{}, 1),
	}
}

// SetAddresses replaces the lookupd addresses (nsqd's PUT
// /config/nsqlookupd_tcp_addresses): they are resolved at once, new ones
// joined and those no longer listed dropped, without a restart.
func (r *Registrar) SetAddresses(addrs []string) {
	r.addrsMu.Lock()
	r.addrs = slices.Clone(addrs)
	r.addrsMu.Unlock()
	select {
	case r.addrsChanged <- struct{}{}:
	default:
	}
}

func (r *Registrar) currentOptions() Options {
	r.addrsMu.Lock()
	defer r.addrsMu.Unlock()
	o := r.opts
	o.Addresses = slices.Clone(r.addrs)
	return o
}

func withDefaults(o Options) Options {
	if o.ResolveInterval <= 0 {
		o.ResolveInterval = 5 * time.Second
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 15 * time.Second
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Identity.Hostname == "" {
		o.Identity.Hostname, _ = os.Hostname()
	}
	if o.Identity.BroadcastAddress == "" {
		o.Identity.BroadcastAddress = o.Identity.Hostname
	}
	return o
}

// Start begins resolving and connecting, in the background. Calling it again,
// or after Close, does nothing.
func (r *Registrar) Start() {
	r.start.Do(func() {
		if r.ctx.Err() != nil {
			return
		}
		r.wg.Add(1)
		go r.resolveLoop()
	})
}

// Close disconnects from every lookupd and returns once every goroutine of
// the Registrar has stopped. nsqlookupd drops the daemon's registrations when
// the connection closes, so no UNREGISTER is sent.
func (r *Registrar) Close() {
	r.cancel()
	r.wg.Wait()
}

// Register announces reg to every connected lookupd. Call it after reg is
// visible in snapshot(): a lookupd that is not connected right now gets reg
// with the snapshot when it (re)connects, instead. It never waits on the
// network.
func (r *Registrar) Register(reg Registration) {
	r.broadcast(reg, lookupwire.Register(reg.Topic, reg.Channel))
}

// Unregister withdraws reg from every connected lookupd; call it after reg
// has left snapshot(). A topic-level Unregister makes nsqlookupd drop the
// topic's channels too.
func (r *Registrar) Unregister(reg Registration) {
	r.broadcast(reg, lookupwire.Unregister(reg.Topic, reg.Channel))
}

func (r *Registrar) broadcast(reg Registration, cmd lookupwire.Command) {
	if !validRegistration(reg) {
		// nsqlookupd would answer with an error and close the connection.
		r.opts.Logf("LOOKUP: not sending %q: invalid topic or channel name", cmd.String())
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.peers {
		p.enqueue(cmd)
	}
}

func validRegistration(reg Registration) bool {
	return lookupwire.ValidName(reg.Topic) && (reg.Channel == "" || lookupwire.ValidName(reg.Channel))
}

// LookupdHTTPAddrs returns the HTTP address (broadcast_address:http_port from
// its IDENTIFY response) of every lookupd connected now, sorted and without
// duplicates: where nsqd asks /channels?topic= for the channels of a topic it
// creates. Unlike nsqd, disconnected lookupds are left out.
func (r *Registrar) LookupdHTTPAddrs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var addrs []string
	for _, p := range r.peers {
		info, ok := p.liveInfo()
		if !ok || info.BroadcastAddress == "" {
			continue
		}
		addrs = append(addrs, net.JoinHostPort(info.BroadcastAddress, strconv.Itoa(info.HTTPPort)))
	}
	slices.Sort(addrs)
	return slices.Compact(addrs)
}

// resolveLoop re-resolves the addresses every ResolveInterval and makes the
// set of peers match.
func (r *Registrar) resolveLoop() {
	defer r.wg.Done()
	res := newResolution(r.currentOptions())
	ticker := time.NewTicker(r.opts.ResolveInterval)
	defer ticker.Stop()
	for {
		r.reconcile(res.targets(r.ctx))
		select {
		case <-r.ctx.Done():
			return
		case <-ticker.C:
		case <-r.addrsChanged:
			res = newResolution(r.currentOptions())
		}
	}
}

// reconcile starts a peer for each new target and stops those of vanished
// targets; peers of targets that stay keep their connection.
func (r *Registrar) reconcile(targets []string) {
	if r.ctx.Err() != nil {
		return // Close has begun: start nothing new.
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for addr, p := range r.peers {
		if !slices.Contains(targets, addr) {
			r.opts.Logf("LOOKUP(%s): removing peer", addr)
			p.stop()
			delete(r.peers, addr)
		}
	}
	for _, addr := range targets {
		if r.peers[addr] == nil {
			r.opts.Logf("LOOKUP(%s): adding peer", addr)
			p := newPeer(r, addr)
			r.peers[addr] = p
			r.wg.Add(1)
			go p.run()
		}
	}
}
