package queued

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestPublishAndConsume(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	sub := subscribe(t, d, "t", "c")
	pub := dial(t, d)
	for i := range 3 {
		pub.cmd("PUB t", []byte(fmt.Sprint("m", i)))
		pub.expectOK()
	}
	pub.cmd("MPUB t", append(append([]byte{0, 0, 0, 2}, 0, 0, 0, 2), append([]byte("m3"), 0, 0, 0, 2, 'm', '4')...))
	pub.expectOK()
	sub.cmd("RDY 10")
	for i := range 5 {
		m := sub.message()
		if m.body != fmt.Sprint("m", i) || m.attempts != 1 {
			t.Fatalf("message %d: %+v", i, m)
		}
		sub.cmd("FIN " + m.id)
	}
	ch := mustChannel(t, d, "t", "c")
	waitFor(t, "all finished", func() bool { return ch.inFlightCount() == 0 })
}

func mustChannel(t testing.TB, d *Daemon, topic, channel string) *Channel {
	t.Helper()
	tp, err := d.GetExistingTopic(topic)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := tp.GetExistingChannel(channel)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func TestRequeueRedeliversWithNextAttempt(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	sub := subscribe(t, d, "t", "c")
	pub := dial(t, d)
	pub.cmd("PUB t", []byte("x"))
	pub.expectOK()
	sub.cmd("RDY 1")
	m := sub.message()
	sub.cmd("REQ " + m.id + " 0")
	again := sub.message()
	if again.id != m.id || again.attempts != 2 {
		t.Fatalf("redelivered %+v, want %s attempt 2", again, m.id)
	}
	sub.cmd("REQ " + m.id + " 50") // deferred
	if again = sub.message(); again.attempts != 3 {
		t.Fatalf("after deferred REQ: %+v", again)
	}
}

func TestMessageTimeoutRequeues(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	sub := subscribe(t, d, "t", "c")
	sub.cmd("IDENTIFY", []byte(`{"msg_timeout":1000}`)) // wrong state: after SUB
	sub.expectError("E_INVALID cannot IDENTIFY in current state")
	sub.expectClosed()

	c := dial(t, d)
	c.identify(map[string]any{"msg_timeout": 1000})
	c.cmd("SUB t c")
	c.expectOK()
	pub := dial(t, d)
	pub.cmd("PUB t", []byte("slow"))
	pub.expectOK()
	c.cmd("RDY 1")
	first := c.message()
	start := time.Now()
	second := c.message()
	if second.id != first.id || second.attempts != 2 || time.Since(start) < 900*time.Millisecond {
		t.Fatalf("timed-out message came back as %+v after %v", second, time.Since(start))
	}
	if n := mustChannel(t, d, "t", "c").timeoutCount.Load(); n != 1 {
		t.Fatalf("timeout count %d", n)
	}
}

func TestDPUBDelaysDelivery(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	sub := subscribe(t, d, "t", "c")
	pub := dial(t, d)
	start := time.Now()
	pub.cmd("DPUB t 200", []byte("later"))
	pub.expectOK()
	sub.cmd("RDY 1")
	if m := sub.message(); m.body != "later" || time.Since(start) < 190*time.Millisecond {
		t.Fatalf("got %+v after %v", m, time.Since(start))
	}
}

func TestTouchExtendsTimeout(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	c := dial(t, d)
	c.identify(map[string]any{"msg_timeout": 1000})
	c.cmd("SUB t c")
	c.expectOK()
	pub := dial(t, d)
	pub.cmd("PUB t", []byte("x"))
	pub.expectOK()
	c.cmd("RDY 1")
	m := c.message()
	ch := mustChannel(t, d, "t", "c")
	ch.inFlightMu.Lock()
	before := ch.inFlight[MessageID([]byte(m.id))].pri
	ch.inFlightMu.Unlock()
	time.Sleep(20 * time.Millisecond) // so that the new deadline is measurably later
	c.cmd("TOUCH " + m.id)
	c.cmd("NOP")
	waitFor(t, "deadline moved", func() bool {
		ch.inFlightMu.Lock()
		defer ch.inFlightMu.Unlock()
		return ch.inFlight[MessageID([]byte(m.id))].pri > before
	})
}

func TestErrorsMatchNSQD(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, func(o *Options) { o.MaxMsgSize = 100; o.MaxBodySize = 1000 })
	long := strings.Repeat("x", 65)
	for _, tc := range []struct {
		line  string
		body  [][]byte
		want  string
		fatal bool
	}{
		{"PUB", nil, "E_INVALID PUB insufficient number of parameters", true},
		{"PUB " + long, nil, fmt.Sprintf("E_BAD_TOPIC PUB topic name %q is not valid", long), true},
		{"PUB t", [][]byte{make([]byte, 101)}, "E_BAD_MESSAGE PUB message too big 101 > 100", true},
		{"MPUB bad/topic", nil, `E_BAD_TOPIC E_BAD_TOPIC MPUB topic name "bad/topic" is not valid`, true},
		{"DPUB t abc", nil, "E_INVALID DPUB could not parse timeout abc", true},
		{"DPUB t 3600001", nil, "E_INVALID DPUB timeout 3600001 out of range 0-3600000", true},
		{"RDY 1", nil, "E_INVALID cannot RDY in current state", true},
		{"FIN 0123456789abcdef", nil, "E_INVALID cannot FIN in current state", true},
		{"SUB t", nil, "E_INVALID SUB insufficient number of parameters", true},
		{"SUB t bad/ch", nil, `E_BAD_CHANNEL SUB channel name "bad/ch" is not valid`, true},
		{"AUTH", [][]byte{[]byte("s")}, "E_AUTH_DISABLED AUTH disabled", true},
		{"WHAT", nil, "E_INVALID invalid command WHAT", true},
		{"CLS", nil, "E_INVALID cannot CLS in current state", true},
	} {
		c := dial(t, d)
		c.cmd(tc.line, tc.body...)
		c.expectError(tc.want)
		if tc.fatal {
			c.expectClosed()
		}
	}
}

func TestNonFatalFinErrorKeepsConnection(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	c := subscribe(t, d, "t", "c")
	c.cmd("FIN 0123456789abcdef")
	c.expectError("E_FIN_FAILED FIN 0123456789abcdef failed ID not in flight")
	c.cmd("RDY 2500")
	c.cmd("RDY 2501")
	c.expectError("E_INVALID RDY count 2501 out of range 0-2500")
}

func TestIdentifyNegotiation(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	c := dial(t, d)
	resp := c.identify(map[string]any{"feature_negotiation": true, "heartbeat_interval": 1000, "msg_timeout": 5000})
	for _, want := range []string{`"max_rdy_count":2500`, `"version":"1.3.0"`, `"msg_timeout":5000`, `"auth_required":false`} {
		if !strings.Contains(string(resp), want) {
			t.Fatalf("IDENTIFY response %s lacks %s", resp, want)
		}
	}
	bad := dial(t, d)
	bad.cmd("IDENTIFY", []byte(`{"heartbeat_interval":10}`))
	bad.expectError("E_BAD_BODY IDENTIFY heartbeat interval (10) is invalid")
}

func TestBadProtocolMagic(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	c := dialMagic(t, d, "  V1")
	c.expectError("E_BAD_PROTOCOL")
	c.expectClosed()
}
