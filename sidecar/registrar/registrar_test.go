package registrar

import (
	"errors"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/lookupwire"
)

// handshake is what a lookupd sees first on a connection: IDENTIFY, then one
// REGISTER per registration.
func handshake(regs ...Registration) []string {
	cmds := []string{"IDENTIFY"}
	for _, r := range regs {
		cmds = append(cmds, lookupwire.Register(r.Topic, r.Channel).String())
	}
	return cmds
}

// waitHandshake waits for an open connection that has received want.
func waitHandshake(f *fakeLookupd, want []string) *fakeConn {
	var got *fakeConn
	f.waitFor("IDENTIFY and snapshot", func() bool {
		for _, fc := range f.openConns() {
			if hasPrefix(fc.cmds, want) {
				got = fc
				return true
			}
		}
		return false
	})
	return got
}

func TestIdentifyThenSnapshot(t *testing.T) {
	f := newFakeLookupd(t)
	regs := []Registration{{"t1", ""}, {"t2", "c1"}, {"t2", "c2#ephemeral"}}
	snap := &regSet{}
	snap.set(append(regs, Registration{"bad topic", ""})...) // skipped, not sent
	r, _ := startRegistrar(t, Options{Addresses: []string{f.addr()}}, snap.snapshot)

	fc := waitHandshake(f, handshake(regs...))
	f.mu.Lock()
	peer, cmds := fc.peer, slices.Clone(fc.cmds)
	f.mu.Unlock()
	want := lookupwire.PeerInfo{BroadcastAddress: "10.1.2.3", Hostname: "pod-a", HTTPPort: 4151, TCPPort: 4150, Version: "1.3.0"}
	if peer != want {
		t.Errorf("IDENTIFY body: got %+v, want %+v", peer, want)
	}
	if len(cmds) != len(regs)+1 {
		t.Errorf("commands: got %q", cmds)
	}
	// Live as soon as IDENTIFY is answered, which precedes the REGISTERs.
	wantHTTP := []string{net.JoinHostPort(f.info.BroadcastAddress, strconv.Itoa(f.info.HTTPPort))}
	if got := r.LookupdHTTPAddrs(); !slices.Equal(got, wantHTTP) {
		t.Errorf("LookupdHTTPAddrs: got %q, want %q", got, wantHTTP)
	}
}

func TestRegisterAndUnregisterReachEveryLookupd(t *testing.T) {
	f1, f2 := newFakeLookupd(t), newFakeLookupd(t)
	snap := &regSet{}
	snap.set(Registration{"t0", ""})
	r, logs := startRegistrar(t, Options{Addresses: []string{f1.addr(), f2.addr()}}, snap.snapshot)
	for _, f := range []*fakeLookupd{f1, f2} {
		waitHandshake(f, handshake(Registration{"t0", ""}))
	}

	r.Register(Registration{"t3", "c"})
	r.Unregister(Registration{"t3", "c"})
	r.Register(Registration{"bad name!", ""}) // dropped: lookupd would close on it
	r.Unregister(Registration{"t3", ""})
	r.Register(Registration{"t4", ""})

	want := append(handshake(Registration{"t0", ""}), "REGISTER t3 c", "UNREGISTER t3 c", "UNREGISTER t3", "REGISTER t4")
	for _, f := range []*fakeLookupd{f1, f2} {
		f.waitFor("changes in order, on the first connection", func() bool {
			return len(f.conns) == 1 && !f.conns[0].closed && slices.Equal(f.conns[0].cmds, want)
		})
	}
	if n := logs.count("invalid topic or channel name"); n != 1 {
		t.Errorf("invalid name logged %d times, want 1", n)
	}
	if got := r.LookupdHTTPAddrs(); len(got) != 2 {
		t.Errorf("LookupdHTTPAddrs: got %q, want two", got)
	}
}

func TestPingEveryInterval(t *testing.T) {
	f := newFakeLookupd(t)
	startRegistrar(t, Options{Addresses: []string{f.addr()}, PingInterval: 10 * time.Millisecond}, (&regSet{}).snapshot)
	f.waitFor("three PINGs on one connection", func() bool {
		return len(f.conns) == 1 && count(f.conns[0].cmds, "PING") >= 3
	})
}

func TestReconnectResendsSnapshot(t *testing.T) {
	f := newFakeLookupd(t)
	snap := &regSet{}
	snap.set(Registration{"t1", ""})
	_, logs := startRegistrar(t, Options{Addresses: []string{f.addr()}, PingInterval: 10 * time.Millisecond}, snap.snapshot)
	// A PING shows that the registrar has had every snapshot REGISTER
	// answered: the session is established, and losing it is worth a log line.
	f.waitFor("snapshot, then PING", func() bool {
		return len(f.conns) == 1 && hasPrefix(f.conns[0].cmds, append(handshake(Registration{"t1", ""}), "PING"))
	})

	// The daemon's state changes while the lookupd is away; the new
	// connection must carry the state of its own moment.
	snap.set(Registration{"t1", ""}, Registration{"t2", "c"})
	f.dropAll()
	waitHandshake(f, handshake(Registration{"t1", ""}, Registration{"t2", "c"}))
	f.mu.Lock()
	n, firstClosed := len(f.conns), f.conns[0].closed
	f.mu.Unlock()
	if n != 2 || !firstClosed {
		t.Errorf("got %d connections (first closed: %v), want 2, first closed", n, firstClosed)
	}
	if n := logs.count("connection lost"); n != 1 {
		t.Errorf("connection loss logged %d times, want 1", n)
	}
}

func TestRepeatedFailureLoggedOnce(t *testing.T) {
	f := newFakeLookupd(t)
	id := testIdentity
	id.Version = "" // nsqlookupd refuses: "E_BAD_BODY IDENTIFY missing fields"
	_, logs := startRegistrar(t, Options{Addresses: []string{f.addr()}, Identity: id}, (&regSet{}).snapshot)
	f.waitFor("three attempts", func() bool { return len(f.conns) >= 3 })
	if n := logs.count("E_BAD_BODY IDENTIFY missing fields"); n != 1 {
		t.Errorf("refusal logged %d times, want 1", n)
	}
}

func TestDNSChurnFollowsLookupdPods(t *testing.T) {
	a, b, c := newFakeLookupd(t), newFakeLookupd(t), newFakeLookupd(t)
	res := newFakeResolver()
	res.set("lookupd.test", a.addr(), b.addr())
	regs := []Registration{{"t1", ""}, {"t2", "c"}}
	snap := &regSet{}
	snap.set(regs...)
	interval := 20 * time.Millisecond
	startRegistrar(t, Options{Addresses: []string{"lookupd.test:4160"}, Resolver: res, ResolveInterval: interval}, snap.snapshot)
	want := handshake(regs...)
	waitHandshake(a, want)
	waitHandshake(b, want)

	// b's pod is replaced by c, at a new address behind the same name.
	res.set("lookupd.test", a.addr(), c.addr())
	began := time.Now()
	waitHandshake(c, want)
	b.waitFor("b's connection closed", func() bool { return len(b.openConns()) == 0 })
	if took := time.Since(began); took > 50*interval {
		t.Errorf("took %s to follow the change, resolving every %s", took, interval)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.conns) != 1 || a.conns[0].closed {
		t.Errorf("a's connection was disturbed: %s", a.dump())
	}
}

func TestResolveFailureKeepsConnections(t *testing.T) {
	f := newFakeLookupd(t)
	res := newFakeResolver()
	res.set("lookupd.test", f.addr())
	_, logs := startRegistrar(t, Options{Addresses: []string{"lookupd.test:4160"}, Resolver: res,
		ResolveInterval: 5 * time.Millisecond}, (&regSet{}).snapshot)
	waitHandshake(f, handshake())

	res.fail(errors.New("dns down"))
	res.waitCalls(t, 5)
	f.mu.Lock()
	open := len(f.openConns())
	f.mu.Unlock()
	if open != 1 {
		t.Errorf("open connections during DNS failure: %d, want 1", open)
	}
	if n := logs.count("dns down"); n != 1 {
		t.Errorf("DNS failure logged %d times, want 1", n)
	}
}

func TestCloseWithoutStartAndStartAfterClose(t *testing.T) {
	r := New(Options{Addresses: []string{"127.0.0.1:1"}}, (&regSet{}).snapshot)
	r.Close()
	r.Start()
	r.Register(Registration{"t", ""})
	if got := r.LookupdHTTPAddrs(); got != nil {
		t.Errorf("LookupdHTTPAddrs: got %q", got)
	}
	r.Close()
	assertNoGoroutines(t)
}

// SetAddresses (nsqd's PUT /config/nsqlookupd_tcp_addresses) joins new
// lookupds and leaves dropped ones at once, without waiting for the resolve
// interval.
func TestSetAddressesTakesEffectAtOnce(t *testing.T) {
	a, b := newFakeLookupd(t), newFakeLookupd(t)
	snap := &regSet{}
	regs := []Registration{{"t1", ""}}
	snap.set(regs...)
	r, _ := startRegistrar(t, Options{Addresses: []string{a.addr()}, ResolveInterval: time.Hour}, snap.snapshot)
	want := handshake(regs...)
	waitHandshake(a, want)

	r.SetAddresses([]string{b.addr()})
	waitHandshake(b, want)
	a.waitFor("a's connection closed", func() bool { return len(a.openConns()) == 0 })
}
