package registrar

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/lookupwire"
)

const waitTimeout = 5 * time.Second

// fakeLookupd is a minimal nsqlookupd speaking protocol V1 through
// lookupwire's server-side helpers. It answers like nsqlookupd and records,
// per connection, every command it received.
type fakeLookupd struct {
	t    *testing.T
	ln   net.Listener
	info lookupwire.PeerInfo // its IDENTIFY answer
	wg   sync.WaitGroup

	mu      sync.Mutex
	conns   []*fakeConn
	changed chan struct{} // closed and replaced on every recorded event
}

type fakeConn struct {
	conn   net.Conn
	peer   lookupwire.PeerInfo // the client's IDENTIFY
	cmds   []string
	closed bool
}

func newFakeLookupd(t *testing.T) *fakeLookupd {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	f := &fakeLookupd{t: t, ln: ln, changed: make(chan struct{}),
		info: lookupwire.PeerInfo{BroadcastAddress: "lookupd-" + strconv.Itoa(port),
			Hostname: "fake", TCPPort: port, HTTPPort: port + 1, Version: "1.3.0"}}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(f.close)
	return f
}

func (f *fakeLookupd) addr() string { return f.ln.Addr().String() }

func (f *fakeLookupd) close() {
	f.ln.Close()
	f.dropAll()
	f.wg.Wait()
}

func (f *fakeLookupd) accept() {
	defer f.wg.Done()
	for {
		conn, err := f.ln.Accept()
		if err != nil {
			return
		}
		fc := &fakeConn{conn: conn}
		f.record(func() { f.conns = append(f.conns, fc) })
		f.wg.Add(1)
		go f.serve(fc)
	}
}

// record applies change under the lock and wakes every waiter.
func (f *fakeLookupd) record(change func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change()
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeLookupd) serve(fc *fakeConn) {
	defer f.wg.Done()
	defer f.record(func() { fc.closed = true })
	defer fc.conn.Close()
	if err := lookupwire.ReadMagic(fc.conn); err != nil {
		lookupwire.WriteResponse(fc.conn, []byte(err.Error()))
		return
	}
	br := bufio.NewReader(fc.conn)
	for {
		cmd, err := lookupwire.ReadCommand(br, 1<<20)
		if err == nil {
			f.record(func() { fc.cmds = append(fc.cmds, cmd.String()) })
			var resp []byte
			resp, err = f.exec(fc, cmd)
			if err == nil {
				if lookupwire.WriteResponse(fc.conn, resp) != nil {
					return
				}
				continue
			}
		}
		var werr *lookupwire.Error
		if errors.As(err, &werr) {
			lookupwire.WriteResponse(fc.conn, []byte(werr.Error()))
		}
		return // every V1 error is fatal, as in nsqlookupd
	}
}

func (f *fakeLookupd) exec(fc *fakeConn, cmd lookupwire.Command) ([]byte, error) {
	identified := fc.peer.Version != ""
	switch cmd.Name {
	case lookupwire.CmdPing:
		return lookupwire.OK, nil
	case lookupwire.CmdIdentify:
		if identified {
			return nil, lookupwire.ErrIdentifyAgain
		}
		info, err := lookupwire.DecodeIdentify(cmd.Body)
		if err != nil {
			return nil, err
		}
		f.record(func() { fc.peer = info })
		return json.Marshal(f.info)
	case lookupwire.CmdRegister, lookupwire.CmdUnregister:
		if !identified {
			return nil, lookupwire.ErrMustIdentify
		}
		_, _, err := lookupwire.ParseTopicChannel(cmd)
		return lookupwire.OK, err
	}
	return nil, lookupwire.ErrInvalidCommand(cmd.Name)
}

// dropAll closes every connection from the server side.
func (f *fakeLookupd) dropAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fc := range f.conns {
		fc.conn.Close()
	}
}

// waitFor blocks until cond, evaluated under the lock on every recorded
// event, holds; the test fails after waitTimeout.
func (f *fakeLookupd) waitFor(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		ok, changed := cond(), f.changed
		f.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			f.t.Fatalf("%s: timed out waiting for %s; connections: %s", f.addr(), what, f.dump())
		}
	}
}

func (f *fakeLookupd) dump() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []any
	for _, fc := range f.conns {
		out = append(out, map[string]any{"cmds": fc.cmds, "closed": fc.closed})
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// openConns returns the connections still open (call under the lock).
func (f *fakeLookupd) openConns() []*fakeConn {
	var open []*fakeConn
	for _, fc := range f.conns {
		if !fc.closed {
			open = append(open, fc)
		}
	}
	return open
}

// hasPrefix reports whether cmds begins with want (call under the lock).
func hasPrefix(cmds, want []string) bool {
	if len(cmds) < len(want) {
		return false
	}
	for i := range want {
		if cmds[i] != want[i] {
			return false
		}
	}
	return true
}

func count(cmds []string, cmd string) int {
	n := 0
	for _, c := range cmds {
		if c == cmd {
			n++
		}
	}
	return n
}
