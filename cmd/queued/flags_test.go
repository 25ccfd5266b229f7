package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// A config file written for nsqd configures queued; flags win over it.
func TestConfigFileAsNSQD(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nsqd.cfg")
	os.WriteFile(path, []byte(`
mem_queue_size = 0
sync_every = 1
msg_timeout = "90s"
tls_required = false
nsqlookupd_tcp_addresses = ["lookupd-0:4160", "lookupd-1:4160"]
`), 0o600)
	o, _, err := parseFlags([]string{"--config=" + path, "--sync-every=2"})
	if err != nil {
		t.Fatal(err)
	}
	if o.MemQueueSize != 0 || o.SyncEvery != 2 || o.MsgTimeout != 90*time.Second ||
		!slices.Equal(o.LookupdTCPAddresses, []string{"lookupd-0:4160", "lookupd-1:4160"}) {
		t.Fatalf("options %+v", o)
	}
}

func TestBadFlagValuesNameTheFlag(t *testing.T) {
	t.Parallel()
	for args, want := range map[string]string{
		"--tls-required=maybe":   "--tls-required",
		"--tls-min-version=ssl3": "--tls-min-version",
		"--log-level=loud":       "--log-level",
	} {
		if _, _, err := parseFlags([]string{args}); err == nil || !contains(err.Error(), want) {
			t.Errorf("%s: error %v does not name %s", args, err, want)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
