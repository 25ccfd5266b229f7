//go:build unix

package queued

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sidequeue/sidequeue/sidecar/diskqueue"
)

// A message deferred for half an hour, read from disk before 3,000 others,
// does not hold its channel's position: once 256 of them are finished it
// is written again after the last, so that once they all are, the segments
// they filled are deleted, and a SIGKILL then delivers again only the few
// finished since the last saved position (at most 63: the ledger commits
// every 64), while the deferred message stays deferred.
func TestLongDeferredMessageLetsEarlierSegmentsGo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills daemon processes")
	}
	t.Parallel()
	dataPath := t.TempDir()
	cfg := durableChild(dataPath)
	cfg.MaxBytesPerFile = 16 << 10
	child := startChild(t, cfg)
	sub := subscribeAddr(t, child.TCP, "t", "c")
	pub := dialAddr(t, child.TCP)
	pub.cmd("DPUB t 1800000", []byte("late"))
	pub.expectOK()
	const n = 3000
	backlogOf(t, child, n)
	waitFor(t, "the channel to hold every message", func() bool { return childChannelStats(t, child).Depth == n+1 })
	sub.cmd("RDY 2500")
	for range n {
		m := sub.message()
		if m.body == "late" {
			t.Fatal("the message deferred for 30 minutes was delivered")
		}
		sub.cmd("FIN " + m.id)
	}
	waitFor(t, "the deferred message alone in the channel", func() bool {
		c := childChannelStats(t, child)
		return c.DeferredCount == 1 && c.InFlightCount == 0 && c.Depth == 0
	})
	waitFor(t, "the first segment deleted, and a position within 63 messages of the end saved", func() bool {
		_, err := os.Stat(filepath.Join(dataPath, "t:c.sq.000000.seg"))
		return os.IsNotExist(err) && savedNearTheEnd(t, dataPath, "t:c")
	})
	child.kill()

	child = startChild(t, cfg)
	sub = subscribeAddr(t, child.TCP, "t", "c")
	sub.cmd("RDY 2500")
	publishAddr(t, child.TCP, "t", "mark")
	again := 0
	for m := sub.message(); m.body != "mark"; m = sub.message() {
		if m.body == "late" {
			t.Fatal("the message deferred for 30 minutes was delivered after the crash")
		}
		again++
		sub.cmd("FIN " + m.id)
	}
	if again > 63 {
		t.Fatalf("%d finished messages came again after the crash, want at most 63", again)
	}
	waitFor(t, "the message still deferred after the crash", func() bool { return childChannelStats(t, child).DeferredCount == 1 })
	t.Logf("%d finished messages came again after the SIGKILL", again)
}

// savedNearTheEnd reports whether queue's saved read position is in its
// last segment, at most 63 records of 45 bytes and one of 51 (the deferred
// message) before the end.
func savedNearTheEnd(t *testing.T, dataPath, queue string) bool {
	seg, off, err := diskqueue.SavedReadPosition(dataPath, queue)
	if err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(filepath.Join(dataPath, queue+".sq.*.seg"))
	last := filepath.Join(dataPath, fmt.Sprintf("%s.sq.%06d.seg", queue, seg))
	if len(matches) == 0 || matches[len(matches)-1] != last {
		return false
	}
	fi, err := os.Stat(last)
	return err == nil && off >= fi.Size()-51-63*45
}

func childChannelStats(t *testing.T, child *daemonChild) channelStats {
	t.Helper()
	_, body := childHTTP(t, child, "GET", "/stats?format=json&topic=t&channel=c", "")
	var s struct {
		Topics []struct{ Channels []channelStats }
	}
	if err := json.Unmarshal([]byte(body), &s); err != nil || len(s.Topics) != 1 || len(s.Topics[0].Channels) != 1 {
		t.Fatalf("stats %s: %v", body, err)
	}
	return s.Topics[0].Channels[0]
}
