package queued

import (
	"net"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/protocol"
)

// FuzzCommands feeds arbitrary bytes to a connection, after the V2 magic:
// the daemon must never crash, must end the connection's handler, and must
// still serve a well-behaved client afterwards.
func FuzzCommands(f *testing.F) {
	for _, seed := range []string{
		"NOP\n",
		"PUB t\n\x00\x00\x00\x01x",
		"MPUB t\n\x00\x00\x00\x0a\x00\x00\x00\x01\x00\x00\x00\x01x",
		"MPUB t\n\x00\x00\x00\x08\xff\xff\xff\xff",
		"DPUB t 100\n\x00\x00\x00\x01x",
		"SUB t c\nRDY 1\nFIN 0123456789abcdef\nREQ 0123456789abcdef 10\nTOUCH 0123456789abcdef\nCLS\n",
		"IDENTIFY\n\x00\x00\x00\x02{}SUB t c\n",
		"IDENTIFY\n\x00\x00\x00\x1c{\"feature_negotiation\":true}",
		"IDENTIFY\n\xff\xff\xff\xff",
		"AUTH\n\x00\x00\x00\x01s",
		"RDY -1\nRDY 99999999999999999999\n",
		"PUB \n\x80\x00\x00\x00",
		"\n\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	d := startDaemon(f, func(o *Options) { o.MaxMsgSize, o.MaxBodySize = 1024, 4096 })
	f.Fuzz(func(t *testing.T, input []byte) {
		server, client := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			d.tcp.Handle(server)
		}()
		client.SetDeadline(time.Now().Add(2 * time.Second))
		go drain(client)
		client.Write(append([]byte(protocol.MagicV2), input...))
		client.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("the connection's handler did not end after the client closed")
		}
	})
	c := dial(f, d)
	c.cmd("PUB after-fuzz", []byte("ok"))
	c.expectOK()
}

func drain(c net.Conn) {
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}
