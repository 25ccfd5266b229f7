package queued

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/protocol"
	"github.com/sidequeue/sidequeue/internal/testutil"
)

// startDaemon runs a daemon on loopback ports with a fresh data path.
func startDaemon(t testing.TB, mutate func(*Options)) *Daemon {
	t.Helper()
	d := newDaemon(t, mutate)
	go d.Main()
	return d
}

// newDaemon is startDaemon for a test that runs Main itself.
func newDaemon(t testing.TB, mutate func(*Options)) *Daemon {
	t.Helper()
	d, err := New(testOptions(t, mutate))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(d.Exit)
	return d
}

// testOptions are a test daemon's: loopback ports, a fresh data path.
func testOptions(t testing.TB, mutate func(*Options)) *Options {
	o := NewOptions()
	o.TCPAddress, o.HTTPAddress, o.HTTPSAddress = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	o.DataPath = t.TempDir()
	o.LogLevel = "fatal"
	o.QueueScanInterval = 10 * time.Millisecond
	if mutate != nil {
		mutate(o)
	}
	return o
}

// conn is a raw protocol V2 connection.
type conn struct {
	t testing.TB
	net.Conn
	r *bufio.Reader
}

func dial(t testing.TB, d *Daemon) *conn { return dialMagic(t, d, protocol.MagicV2) }

func dialMagic(t testing.TB, d *Daemon, magic string) *conn {
	t.Helper()
	return dialMagicAddr(t, d.TCPAddr().String(), magic)
}

func dialMagicAddr(t testing.TB, addr, magic string) *conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	nc.Write([]byte(magic))
	return &conn{t: t, Conn: nc, r: bufio.NewReader(nc)}
}

// cmd sends a command line, and a size-prefixed body if given.
func (c *conn) cmd(line string, body ...[]byte) {
	c.t.Helper()
	if err := c.tryCmd(line, body...); err != nil {
		c.t.Fatalf("write %q: %v", line, err)
	}
}

// tryCmd is cmd reporting errors instead of failing: for connections
// expected to break, or used outside the test's goroutine.
func (c *conn) tryCmd(line string, body ...[]byte) error {
	b := []byte(line + "\n")
	for _, part := range body {
		b = binary.BigEndian.AppendUint32(b, uint32(len(part)))
		b = append(b, part...)
	}
	_, err := c.Write(b)
	return err
}

func (c *conn) identify(data map[string]any) []byte {
	c.t.Helper()
	js, _ := json.Marshal(data)
	c.cmd("IDENTIFY", js)
	return c.expect(protocol.FrameTypeResponse)
}

// frame reads one frame, skipping heartbeats.
func (c *conn) frame() (int32, []byte) {
	c.t.Helper()
	ft, data, err := c.tryFrame()
	if err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	return ft, data
}

// tryFrame reads one frame, skipping heartbeats, and reports errors
// instead of failing: for connections expected to break.
func (c *conn) tryFrame() (int32, []byte, error) {
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
			return 0, nil, err
		}
		data := make([]byte, binary.BigEndian.Uint32(hdr[:4])-4)
		if _, err := io.ReadFull(c.r, data); err != nil {
			return 0, nil, err
		}
		ft := int32(binary.BigEndian.Uint32(hdr[4:]))
		if ft == protocol.FrameTypeResponse && string(data) == "_heartbeat_" {
			c.Write([]byte("NOP\n"))
			continue
		}
		return ft, data, nil
	}
}

func (c *conn) expect(ft int32) []byte {
	c.t.Helper()
	got, data := c.frame()
	if got != ft {
		c.t.Fatalf("frame type %d (%q), want %d", got, data, ft)
	}
	return data
}

func (c *conn) expectOK() {
	c.t.Helper()
	if data := c.expect(protocol.FrameTypeResponse); string(data) != "OK" {
		c.t.Fatalf("response %q, want OK", data)
	}
}

func (c *conn) expectError(want string) {
	c.t.Helper()
	if data := c.expect(protocol.FrameTypeError); string(data) != want {
		c.t.Fatalf("error %q, want %q", data, want)
	}
}

// expectClosed checks that the daemon closed the connection.
func (c *conn) expectClosed() {
	c.t.Helper()
	if _, err := c.r.ReadByte(); err == nil {
		c.t.Fatal("connection still open after a fatal error")
	}
}

type wireMessage struct {
	id       string
	attempts uint16
	body     string
}

func (c *conn) message() wireMessage {
	c.t.Helper()
	b := c.expect(protocol.FrameTypeMessage)
	return wireMessage{id: string(b[10:26]), attempts: binary.BigEndian.Uint16(b[8:]), body: string(b[26:])}
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, what, 10*time.Second, cond)
}

func subscribe(t testing.TB, d *Daemon, topic, channel string) *conn {
	c := dial(t, d)
	c.cmd(fmt.Sprintf("SUB %s %s", topic, channel))
	c.expectOK()
	return c
}
