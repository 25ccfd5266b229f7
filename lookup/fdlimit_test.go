//go:build unix

package lookup

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/lookupwire"
	"github.com/sidequeue/sidequeue/internal/testutil"
)

const (
	fdLimitChildEnv = "SIDEQUEUE_LOOKUPD_FDLIMIT_CHILD"
	fdLimit         = 64  // the child's RLIMIT_NOFILE
	fdFlood         = 150 // connections the parent opens: well past fdLimit
)

// TestFDLimitChild is the daemon TestAcceptSurvivesFDExhaustion runs out of
// descriptors: its own process, so the limit binds it alone.
func TestFDLimitChild(t *testing.T) {
	if os.Getenv(fdLimitChildEnv) == "" {
		t.Skip("run by TestAcceptSurvivesFDExhaustion")
	}
	if err := testutil.LimitDescriptors(fdLimit); err != nil {
		fmt.Fprintln(os.Stderr, "setrlimit:", err)
		os.Exit(2)
	}
	o := NewOptions()
	o.TCPAddress, o.HTTPAddress, o.BroadcastAddress = "127.0.0.1:0", "127.0.0.1:0", "lookupd.test"
	o.LogLevel = "warn" // Logf nil: WARN lines go to standard error, which the parent reads
	l, err := New(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	testutil.Serve(l.TCPAddr(), l.HTTPAddr(), l.Main, "lookupd")
}

// A lookupd out of descriptors logs the accept failure and keeps serving
// once descriptors are free again, as nsqlookupd does; it used to exit.
func TestAcceptSurvivesFDExhaustion(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a daemon process and exhausts its descriptors")
	}
	t.Parallel()
	child := testutil.StartChild(t, "TestFDLimitChild", fdLimitChildEnv+"=1")
	if child.TCP == "" {
		child.Fatal(t, "the child did not start")
	}

	// The kernel completes every handshake; the daemon runs out of
	// descriptors accepting them.
	const logged = "temporary Accept() failure"
	line, closeFlood := child.Flood(t, fdFlood, logged)
	t.Logf("child logged: ...%s", line)

	closeFlood()
	conn, err := net.DialTimeout("tcp", child.TCP, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if err := lookupwire.WriteMagic(conn); err != nil {
		t.Fatal(err)
	}
	if err := lookupwire.WriteCommand(conn, lookupwire.Ping()); err != nil {
		t.Fatal(err)
	}
	if resp, err := lookupwire.ReadResponse(bufio.NewReader(conn), 1<<20); err != nil || string(resp) != "OK" {
		t.Fatalf("PING after the flood: %q, %v", resp, err)
	}
	child.ExpectPing(t)
	if child.HasExited() {
		child.Fatal(t, "the child ended")
	}
	t.Logf("the child logged the failure %d times in all (once per run of failures)",
		strings.Count(child.Stderr.String(), logged))
}
