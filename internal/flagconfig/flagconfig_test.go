package flagconfig

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func TestApplyResolvesFlagThenFileThenDefault(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nsqd.cfg")
	os.WriteFile(path, []byte(`
tcp_address = "0.0.0.0:5150"
http_address = "0.0.0.0:5151"
mem_queue_size = 0
msg_timeout = "90s"
snappy = false
nsqlookupd_tcp_addresses = ["a:4160", "b:4160"]
statsd_address = "127.0.0.1:8125"
`), 0o600)
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	tcp := fs.String("tcp-address", "0.0.0.0:4150", "")
	httpAddr := fs.String("http-address", "0.0.0.0:4151", "")
	mem := fs.Int64("mem-queue-size", 10000, "")
	timeout := fs.Duration("msg-timeout", time.Minute, "")
	snappy := fs.Bool("snappy", true, "")
	syncEvery := fs.Int64("sync-every", 2500, "")
	var lookupds list
	fs.Var(&lookupds, "lookupd-tcp-address", "")
	if err := fs.Parse([]string{"--http-address=127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	unknown, err := Apply(fs, path, map[string]string{"lookupd-tcp-address": "nsqlookupd_tcp_addresses"})
	if err != nil {
		t.Fatal(err)
	}
	if *tcp != "0.0.0.0:5150" || *httpAddr != "127.0.0.1:1" || *mem != 0 || *timeout != 90*time.Second ||
		*snappy || *syncEvery != 2500 || !slices.Equal(lookupds, []string{"a:4160", "b:4160"}) {
		t.Fatalf("resolved tcp %s http %s mem %d timeout %v snappy %v sync %d lookupds %v",
			*tcp, *httpAddr, *mem, *timeout, *snappy, *syncEvery, lookupds)
	}
	if !slices.Equal(unknown, []string{"statsd_address"}) {
		t.Fatalf("unknown keys %v", unknown)
	}
}

func TestApplyNamesTheBadKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bad.cfg")
	os.WriteFile(path, []byte(`mem_queue_size = "lots"`), 0o600)
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Int64("mem-queue-size", 1, "")
	if _, err := Apply(fs, path, nil); err == nil || !strings.Contains(err.Error(), "mem_queue_size") {
		t.Fatalf("error %v does not name the key", err)
	}
}

// nsqd reads an integer for a duration as milliseconds: a file written for
// it means the same here.
func TestIntegerDurationIsMilliseconds(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nsqd.cfg")
	os.WriteFile(path, []byte("msg_timeout = 90000\nsync_timeout = 250\n"), 0o600)
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	timeout := fs.Duration("msg-timeout", time.Minute, "")
	syncTimeout := fs.Duration("sync-timeout", 2*time.Second, "")
	if _, err := Apply(fs, path, nil); err != nil {
		t.Fatal(err)
	}
	if *timeout != 90*time.Second || *syncTimeout != 250*time.Millisecond {
		t.Fatalf("msg_timeout %v, sync_timeout %v; want 1m30s and 250ms", *timeout, *syncTimeout)
	}
}
