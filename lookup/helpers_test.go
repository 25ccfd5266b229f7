package lookup

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/lookupwire"
	"github.com/sidequeue/sidequeue/internal/testutil"
)

// start runs a lookupd on loopback ports, stopped when the test ends.
func start(t *testing.T, edit func(*Options)) *Lookupd {
	t.Helper()
	o := NewOptions()
	o.TCPAddress, o.HTTPAddress = "127.0.0.1:0", "127.0.0.1:0"
	o.BroadcastAddress = "lookupd.test"
	o.Logf = func(level, format string, args ...any) { t.Logf(level+": "+format, args...) }
	o.LogLevel = "warn"
	if edit != nil {
		edit(o)
	}
	l, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.Main() }()
	t.Cleanup(func() {
		l.Exit()
		if err := <-done; err != nil {
			t.Errorf("Main: %v", err)
		}
	})
	return l
}

// client is a raw protocol V1 connection, as a queue daemon holds one.
type client struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, l *Lookupd) *client {
	t.Helper()
	conn, err := net.Dial("tcp", l.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := lookupwire.WriteMagic(conn); err != nil {
		t.Fatal(err)
	}
	return &client{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// send writes c and returns the response text.
func (c *client) send(cmd lookupwire.Command) string {
	c.t.Helper()
	if err := lookupwire.WriteCommand(c.conn, cmd); err != nil {
		c.t.Fatal(err)
	}
	return c.read()
}

func (c *client) read() string {
	c.t.Helper()
	resp, err := lookupwire.ReadResponse(c.r, 1<<20)
	if err != nil {
		c.t.Fatalf("read response: %v", err)
	}
	return string(resp)
}

// closed asserts the server closed the connection.
func (c *client) closed() {
	c.t.Helper()
	if _, err := c.r.ReadByte(); err != io.EOF {
		c.t.Fatalf("connection still open (err %v)", err)
	}
}

// newProducer dials and IDENTIFYs as a queue daemon at host:tcp/http.
func newProducer(t *testing.T, l *Lookupd, host string, tcpPort, httpPort int) *client {
	t.Helper()
	c := dial(t, l)
	cmd, _ := lookupwire.Identify(lookupwire.PeerInfo{BroadcastAddress: host, Hostname: host,
		TCPPort: tcpPort, HTTPPort: httpPort, Version: "1.3.0"})
	if resp := c.send(cmd); !strings.HasPrefix(resp, "{") {
		t.Fatalf("IDENTIFY: %s", resp)
	}
	return c
}

func (c *client) mustOK(cmd lookupwire.Command) {
	c.t.Helper()
	if resp := c.send(cmd); resp != "OK" {
		c.t.Fatalf("%s: %s", cmd, resp)
	}
}

// get fetches path from l's HTTP API and returns the status and body.
func get(t *testing.T, l *Lookupd, method, path string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+l.HTTPAddr().String()+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

// getJSON fetches path, expects 200, and decodes it into v.
func getJSON(t *testing.T, l *Lookupd, path string, v any) {
	t.Helper()
	code, body, _ := get(t, l, "GET", path)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, what, d, cond)
}

type lookupAnswer struct {
	Channels  []string   `json:"channels"`
	Producers []nodeInfo `json:"producers"`
}

// lookupPorts returns the TCP ports /lookup lists for topic, nil on 404.
func lookupPorts(t *testing.T, l *Lookupd, topic string) []int {
	t.Helper()
	code, body, _ := get(t, l, "GET", "/lookup?topic="+topic)
	if code == 404 {
		return nil
	}
	var a lookupAnswer
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatal(err)
	}
	ports := []int{}
	for _, p := range a.Producers {
		ports = append(ports, p.TCPPort)
	}
	return ports
}
