//go:build unix

package queued

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	fdLimit = 64  // the child's RLIMIT_NOFILE
	fdFlood = 150 // connections the parent opens: well past fdLimit
)

// A daemon out of descriptors logs the accept failure and keeps serving
// once descriptors are free again, as nsqd does; it used to exit.
func TestAcceptSurvivesFDExhaustion(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a daemon process and exhausts its descriptors")
	}
	t.Parallel()
	child := startChild(t, childConfig{DataPath: t.TempDir(), NoFile: fdLimit,
		LogLevel: "warn"}) // WARN lines go to standard error, which the test reads

	// The kernel completes every handshake; the daemon runs out of
	// descriptors accepting them.
	flood := make([]net.Conn, 0, fdFlood)
	closeFlood := func() {
		for _, c := range flood {
			c.Close()
		}
		flood = nil
	}
	t.Cleanup(closeFlood)
	for range fdFlood {
		c, err := net.DialTimeout("tcp", child.tcp, 5*time.Second)
		if err != nil {
			child.fatal(t, "dial %d: %v", len(flood)+1, err)
		}
		flood = append(flood, c)
	}
	const logged = "temporary Accept() failure"
	waitFor(t, "the accept failure in the child's log", func() bool {
		return strings.Contains(child.stderr.String(), logged) || child.hasExited()
	})
	if child.hasExited() {
		child.fatal(t, "the child ended")
	}
	line := child.stderr.String()
	line = line[strings.Index(line, logged):]
	line, _, _ = strings.Cut(line, "\n")
	t.Logf("child logged: ...%s", line)

	closeFlood()
	pub := dialAddr(t, child.tcp)
	pub.cmd("PUB fdlimit", []byte("after the flood"))
	pub.expectOK()
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Get("http://" + child.http + "/ping")
	if err != nil {
		t.Fatalf("GET /ping: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "OK" {
		t.Fatalf("GET /ping: %d %q", resp.StatusCode, body)
	}
	if child.hasExited() {
		child.fatal(t, "the child ended")
	}
	t.Logf("the child logged the failure %d times in all (once per run of failures)",
		strings.Count(child.stderr.String(), logged))
}
