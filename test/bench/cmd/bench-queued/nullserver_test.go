package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/protocol"
)

// startNull serves a null server for messages on a loopback port.
func startNull(t *testing.T, messages int64) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go newNullServer(messages).acceptLoop(l)
	return l.Addr().String()
}

// TestNullServerWithGoNSQ runs the bench's own publishers and consumers
// (the tally included) against the null server: every MPUB acknowledged,
// every index delivered exactly once. The odd count leaves a short last
// batch and a last RDY window only partly used.
func TestNullServerWithGoNSQ(t *testing.T) {
	const n = 20_001
	addr := startNull(t, n)
	if _, err := mpubAll(addr, n); err != nil {
		t.Fatalf("pub: %v", err)
	}
	start := time.Now()
	if _, err := drain(addr, n, subConns, subInFlight); err != nil {
		t.Fatalf("sub: %v", err)
	}
	// go-nsq waits 30 s for a CLOSE_WAIT that never comes.
	if d := time.Since(start); d > slowStop {
		t.Errorf("drain and stop took %v", d)
	}
}

// TestNullServerAnswersCLSWithInputBehindIt sends CLS with another command
// right behind it in the same write, as a consumer does when a FIN races
// its Stop: CLOSE_WAIT must still be sent at once, though the sender (with
// nothing to send) has no reason to flush.
func TestNullServerAnswersCLSWithInputBehindIt(t *testing.T) {
	conn, err := net.Dial("tcp", startNull(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	r := bufio.NewReader(conn)
	body := []byte(`{"feature_negotiation":true}`)
	size := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	send(t, conn, append(append(append([]byte("  V2IDENTIFY\n"), size...), body...), "SUB bench bench\n"...))
	expect(t, r, "{", "OK")
	send(t, conn, []byte("CLS\nNOP\n"))
	expect(t, r, "CLOSE_WAIT")
}

func send(t *testing.T, conn net.Conn, b []byte) {
	t.Helper()
	if _, err := conn.Write(b); err != nil {
		t.Fatal(err)
	}
}

// expect reads one response frame per prefix in want, each starting so.
func expect(t *testing.T, r io.Reader, want ...string) {
	t.Helper()
	for _, w := range want {
		got, err := readFrame(r)
		if err != nil {
			t.Fatalf("waiting for %q: %v", w, err)
		}
		if !strings.HasPrefix(got, w) {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
}

// readFrame reads one response frame and returns its data.
func readFrame(r io.Reader) (string, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return "", err
	}
	if ft := binary.BigEndian.Uint32(hdr[4:]); ft != uint32(protocol.FrameTypeResponse) {
		return "", fmt.Errorf("frame type %d, not a response", ft)
	}
	data := make([]byte, binary.BigEndian.Uint32(hdr[:4])-4)
	_, err := io.ReadFull(r, data)
	return string(data), err
}
