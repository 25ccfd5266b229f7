package lookup

import (
	"bufio"
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/lookupwire"
)

func TestIdentifyAnswersWhoWeAre(t *testing.T) {
	t.Parallel()
	l := start(t, nil)
	c := dial(t, l)
	cmd, _ := lookupwire.Identify(lookupwire.PeerInfo{BroadcastAddress: "q1", TCPPort: 4150, HTTPPort: 4151, Version: "1.3.0"})
	var got lookupwire.PeerInfo
	if err := json.Unmarshal([]byte(c.send(cmd)), &got); err != nil {
		t.Fatal(err)
	}
	if got.BroadcastAddress != "lookupd.test" || got.TCPPort != l.TCPAddr().Port ||
		got.HTTPPort != l.HTTPAddr().Port || got.Version != Version || got.Hostname == "" {
		t.Fatalf("IDENTIFY answer %+v", got)
	}
	c.mustOK(lookupwire.Ping())
	c.mustOK(lookupwire.Register("t", "c"))
	c.mustOK(lookupwire.Unregister("t", "c"))
	c.mustOK(lookupwire.Unregister("t", ""))
}

// Every error nsqlookupd answers is fatal: the text, then the close.
func TestV1Errors(t *testing.T) {
	t.Parallel()
	l := start(t, nil)
	identify, _ := lookupwire.Identify(lookupwire.PeerInfo{BroadcastAddress: "q", TCPPort: 1, HTTPPort: 2, Version: "v"})
	cases := []struct {
		name     string
		identify bool
		cmd      lookupwire.Command
		want     string
	}{
		{"register first", false, lookupwire.Register("t", ""), "E_INVALID client must IDENTIFY"},
		{"unregister first", false, lookupwire.Unregister("t", ""), "E_INVALID client must IDENTIFY"},
		{"unknown", true, lookupwire.Command{Name: "NOPE"}, "E_INVALID invalid command NOPE"},
		{"no params", true, lookupwire.Command{Name: "REGISTER"}, "E_INVALID REGISTER insufficient number of params"},
		{"bad topic", true, lookupwire.Register("a/b", ""), "E_BAD_TOPIC REGISTER topic name 'a/b' is not valid"},
		{"bad channel", true, lookupwire.Unregister("t", "c!"), "E_BAD_CHANNEL UNREGISTER channel name 'c!' is not valid"},
		{"identify again", true, identify, "E_INVALID cannot IDENTIFY again"},
		{"missing fields", false, lookupwire.Command{Name: "IDENTIFY", Body: []byte(`{"tcp_port":1}`)}, "E_BAD_BODY IDENTIFY missing fields"},
		{"bad json", false, lookupwire.Command{Name: "IDENTIFY", Body: []byte(`{`)}, "E_BAD_BODY IDENTIFY failed to decode JSON body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := dial(t, l)
			if tc.identify {
				if resp := c.send(identify); resp[0] != '{' {
					t.Fatal(resp)
				}
			}
			if got := c.send(tc.cmd); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			c.closed()
		})
	}
}

func TestPingBeforeIdentify(t *testing.T) {
	t.Parallel()
	l := start(t, nil)
	c := dial(t, l)
	c.mustOK(lookupwire.Ping())
}

func TestBadMagic(t *testing.T) {
	t.Parallel()
	l := start(t, nil)
	conn, err := net.Dial("tcp", l.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("  V2"))
	c := &client{t: t, conn: conn, r: bufio.NewReader(conn)}
	if got := c.read(); got != "E_BAD_PROTOCOL" {
		t.Fatalf("got %q", got)
	}
	c.closed()
}

// A producer's registrations go with its connection.
func TestDisconnectRemovesRegistrations(t *testing.T) {
	t.Parallel()
	l := start(t, nil)
	a := newProducer(t, l, "a", 1001, 2001)
	b := newProducer(t, l, "b", 1002, 2002)
	a.mustOK(lookupwire.Register("t", "c"))
	b.mustOK(lookupwire.Register("t", ""))
	if got := lookupPorts(t, l, "t"); len(got) != 2 {
		t.Fatalf("lookup before: %v", got)
	}
	a.conn.Close()
	waitFor(t, "a's registrations to go", 5*time.Second, func() bool {
		got := lookupPorts(t, l, "t")
		return len(got) == 1 && got[0] == 1002
	})
	// The channel stays registered, as in nsqlookupd, without producers.
	var ch struct{ Channels []string }
	getJSON(t, l, "/channels?topic=t", &ch)
	if len(ch.Channels) != 1 || ch.Channels[0] != "c" {
		t.Fatalf("channels %v", ch.Channels)
	}
}

func TestEphemeralForgottenWithLastProducer(t *testing.T) {
	t.Parallel()
	l := start(t, nil)
	a := newProducer(t, l, "a", 1001, 2001)
	b := newProducer(t, l, "b", 1002, 2002)
	a.mustOK(lookupwire.Register("t", "c#ephemeral"))
	b.mustOK(lookupwire.Register("t", "c#ephemeral"))
	a.mustOK(lookupwire.Register("e#ephemeral", ""))
	a.mustOK(lookupwire.Unregister("t", "c#ephemeral"))
	if got := l.db.channelNames("t"); len(got) != 1 {
		t.Fatalf("channel gone while b still has it: %v", got)
	}
	b.mustOK(lookupwire.Unregister("t", "c#ephemeral"))
	if got := l.db.channelNames("t"); len(got) != 0 {
		t.Fatalf("ephemeral channel kept: %v", got)
	}
	// An ephemeral topic goes when its last producer disconnects.
	if lookupPorts(t, l, "e%23ephemeral") == nil {
		t.Fatal("ephemeral topic not registered")
	}
	a.conn.Close()
	waitFor(t, "ephemeral topic forgotten", 5*time.Second, func() bool {
		for _, name := range l.db.topicNames() {
			if name == "e#ephemeral" {
				return false
			}
		}
		return true
	})
	if lookupPorts(t, l, "t") == nil {
		t.Fatal("durable topic t forgotten")
	}
}

func TestTopicUnregisterDropsChannels(t *testing.T) {
	t.Parallel()
	l := start(t, nil)
	a := newProducer(t, l, "a", 1001, 2001)
	a.mustOK(lookupwire.Register("t", "c1"))
	a.mustOK(lookupwire.Register("t", "c2"))
	a.mustOK(lookupwire.Unregister("t", ""))
	var d map[string][]debugProducer
	getJSON(t, l, "/debug", &d)
	for key, ps := range d {
		if key != "client::" && len(ps) > 0 {
			t.Fatalf("%s still has producers %v", key, ps)
		}
	}
	if got := lookupPorts(t, l, "t"); got == nil || len(got) != 0 {
		t.Fatalf("lookup %v, want the topic with no producers", got)
	}
}
