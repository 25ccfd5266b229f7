//go:build unix

package queued

import (
	"fmt"
	"os"
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
	const logged = "temporary Accept() failure"
	line, closeFlood := child.Flood(t, fdFlood, logged)
	t.Logf("child logged: ...%s", line)

	closeFlood()
	pub := dialAddr(t, child.TCP)
	pub.cmd("PUB fdlimit", []byte("after the flood"))
	pub.expectOK()
	child.ExpectPing(t)
	if child.HasExited() {
		child.Fatal(t, "the child ended")
	}
	t.Logf("the child logged the failure %d times in all (once per run of failures)",
		strings.Count(child.Stderr.String(), logged))
}

// Idle topics and channels hold no descriptors: their files are opened when
// used and closed after a quiet SyncTimeout. With two or more per topic
// before, about 1,000 topics exhausted a limit of 1,024 (nsqd: 12 files for
// 1,500 topics). Not parallel: it counts the process's descriptors.
func TestIdleTopicsHoldNoDescriptors(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 400 topics")
	}
	d := startDaemon(t, func(o *Options) { o.SyncTimeout = 20 * time.Millisecond })
	before := openDescriptors(t)
	const topics = 400
	peak := 0
	for i := range topics {
		tp, err := d.GetTopic(fmt.Sprintf("idle%04d", i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tp.GetChannel("c"); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			peak = max(peak, openDescriptors(t))
		}
	}
	publishN(t, d, "idle0000", 10) // used once, then idle again
	var after int
	waitFor(t, "idle topics to close their files", func() bool {
		after = openDescriptors(t)
		return after-before < 20
	})
	t.Logf("%d topics with a channel each: %d descriptors before, at most %d while creating, %d once idle",
		topics, before, peak, after)
}

func openDescriptors(t testing.TB) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(entries)
}
