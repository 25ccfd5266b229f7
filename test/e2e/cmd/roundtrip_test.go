// Package cmd's tests run the end-to-end publisher and consumer as the
// cluster runs them, as processes, against queued and lookupd processes
// (bin/queued and bin/lookupd when QUEUED and LOOKUPD name them, built
// from source otherwise), and count messages through their /stats.
package cmd

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/testutil"
	"github.com/sidequeue/sidequeue/test/e2e/msgs"
)

// daemons are a lookupd and a queued registered with it, on free ports.
type daemons struct {
	lookupdHTTP, queuedTCP string
}

func startDaemons(t *testing.T) daemons {
	t.Helper()
	l := testutil.StartBinary(t, binary(t, "LOOKUPD", "lookupd"), `HTTP: listening on \S+`, 30*time.Second,
		"--tcp-address=127.0.0.1:0", "--http-address=127.0.0.1:0", "--broadcast-address=127.0.0.1")
	lTCP, lHTTP := listening(t, l.Stderr.String())
	q := testutil.StartBinary(t, binary(t, "QUEUED", "queued"), `HTTP: listening on \S+`, 30*time.Second,
		"--data-path="+t.TempDir(), "--tcp-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
		"--broadcast-address=127.0.0.1", "--lookupd-tcp-address="+lTCP, "--mem-queue-size=0")
	qTCP, _ := listening(t, q.Stderr.String())
	return daemons{lookupdHTTP: lHTTP, queuedTCP: qTCP}
}

// binary is the daemon that $env names, or one built from ./cmd/<name>.
func binary(t *testing.T, env, name string) string {
	if bin := os.Getenv(env); bin != "" {
		return bin
	}
	return testutil.Build(t, name, "github.com/sidequeue/sidequeue/cmd/"+name)
}

var listenLine = regexp.MustCompile(`(TCP|HTTP): listening on (\S+)`)

func listening(t *testing.T, log string) (tcp, http string) {
	t.Helper()
	for _, m := range listenLine.FindAllStringSubmatch(log, -1) {
		if m[1] == "TCP" {
			tcp = m[2]
		} else {
			http = m[2]
		}
	}
	if tcp == "" || http == "" {
		t.Fatalf("no addresses in:\n%s", log)
	}
	return tcp, http
}

// app is the publisher or the consumer, running.
type app struct {
	*testutil.Started
	stats string // its GET /stats URL
}

var statsLine = regexp.MustCompile(`stats on (http://\S+/stats)`)

func startApp(t *testing.T, name string, args ...string) app {
	t.Helper()
	bin := testutil.Build(t, name, "./"+name)
	s := testutil.StartBinary(t, bin, statsLine.String(), 30*time.Second, append(args, "-http-address=127.0.0.1:0")...)
	return app{Started: s, stats: statsLine.FindStringSubmatch(s.Stderr.String())[1]}
}

func get[T any](t *testing.T, a app) T {
	t.Helper()
	var v T
	resp, err := http.Get(a.stats)
	if err != nil {
		t.Fatalf("GET %s: %v; stderr:\n%s", a.stats, err, a.Stderr)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("GET %s: %v", a.stats, err)
	}
	return v
}

// A publisher publishes 1,000 messages, then a consumer that finds the
// daemon through lookupd receives each of them; both stop on SIGTERM with
// exit 0.
func TestThousandMessagesRoundTrip(t *testing.T) {
	t.Parallel()
	d := startDaemons(t)
	pub := startApp(t, "publisher", "-nsqd-tcp-address="+d.queuedTCP, "-topic=orders", "-source=pub-a", "-count=1000")
	testutil.WaitEvery(t, "1,000 publishes", 60*time.Second, 10*time.Millisecond, func() bool {
		return get[msgs.PublisherStats](t, pub).Done
	})
	ps := get[msgs.PublisherStats](t, pub)
	if ps.Acked != 1000 || ps.Failed != 0 || ps.AckedIDs.String() != "0-999" || ps.Source != "pub-a" {
		t.Fatalf("publisher stats: acked %d (%s), failed %d (%s), source %q", ps.Acked, ps.AckedIDs, ps.Failed, ps.FirstError, ps.Source)
	}
	cons := startApp(t, "consumer", "-lookupd-http-address="+d.lookupdHTTP, "-topic=orders", "-channel=billing",
		"-lookupd-poll-interval=100ms")
	testutil.WaitEvery(t, "the consumer to receive 1,000", 60*time.Second, 10*time.Millisecond, func() bool {
		return get[msgs.ConsumerStats](t, cons).Distinct >= 1000
	})
	cs := get[msgs.ConsumerStats](t, cons)
	if m := msgs.Missing(ps, cs); m.Len() != 0 || cs.Distinct != 1000 || cs.Malformed != 0 {
		t.Fatalf("consumer: %d distinct, %d malformed, missing %s", cs.Distinct, cs.Malformed, m)
	}
	for _, a := range []app{pub, cons} {
		if code := a.Stop(t, syscall.SIGTERM, 20*time.Second); code != 0 {
			t.Errorf("exit %d after SIGTERM; stderr:\n%s", code, a.Stderr)
		}
	}
}

// Stopped while it publishes, with -linger, the publisher serves its final
// numbers and exits as soon as they were read, long before -linger ends:
// what a rolling update's test needs of a pod that is going.
func TestPublisherStopsOnSIGTERMAndLingersUntilRead(t *testing.T) {
	t.Parallel()
	d := startDaemons(t)
	pub := startApp(t, "publisher", "-nsqd-tcp-address="+d.queuedTCP, "-topic=orders", "-source=pub-b",
		"-rate=500", "-linger=5m")
	testutil.WaitEvery(t, "100 publishes", 60*time.Second, 10*time.Millisecond, func() bool {
		return get[msgs.PublisherStats](t, pub).Acked >= 100
	})
	if err := pub.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var ps msgs.PublisherStats
	testutil.WaitEvery(t, "the final numbers", 20*time.Second, 10*time.Millisecond, func() bool {
		ps = get[msgs.PublisherStats](t, pub)
		return ps.Done
	})
	// Signal 0 sends nothing: Stop just waits for the exit.
	if code := pub.Stop(t, syscall.Signal(0), 20*time.Second); code != 0 {
		t.Errorf("exit %d; stderr:\n%s", code, pub.Stderr)
	}
	cons := startApp(t, "consumer", "-lookupd-http-address="+d.lookupdHTTP, "-topic=orders", "-channel=c",
		"-lookupd-poll-interval=100ms")
	testutil.WaitEvery(t, "every acknowledged message", 60*time.Second, 10*time.Millisecond, func() bool {
		return msgs.Missing(ps, get[msgs.ConsumerStats](t, cons)).Len() == 0
	})
	if ps.Failed != 0 {
		t.Errorf("%d publishes failed: %s", ps.Failed, ps.FirstError)
	}
}
