package queued

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// A config file written for nsqd configures queued; flags win over it.
func TestFlagsFromConfigFileAsNSQD(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nsqd.cfg")
	os.WriteFile(path, []byte(`
mem_queue_size = 0
sync_every = 1
msg_timeout = "90s"
tls_required = false
nsqlookupd_tcp_addresses = ["lookupd-0:4160", "lookupd-1:4160"]
`), 0o600)
	o, _, err := ParseFlags([]string{"--config=" + path, "--sync-every=2"})
	if err != nil {
		t.Fatal(err)
	}
	if o.MemQueueSize != 0 || o.SyncEvery != 2 || o.MsgTimeout != 90*time.Second ||
		!slices.Equal(o.LookupdTCPAddresses, []string{"lookupd-0:4160", "lookupd-1:4160"}) {
		t.Fatalf("options %+v", o)
	}
}

// The injection webhook refuses a pod whose sidecar flags queued would not
// start with, so every kind of bad argument must come back as an error
// that names it.
func TestBadFlagValuesNameTheFlag(t *testing.T) {
	t.Parallel()
	for args, want := range map[string]string{
		"--tls-required=maybe":   "--tls-required",
		"--tls-min-version=ssl3": "--tls-min-version",
		"--log-level=loud":       "--log-level",
		"--no-such-flag":         "no-such-flag",
		"--mem-queue-size=lots":  "mem-queue-size",
		"--drain-timeout=soon":   "drain-timeout",
		"stray":                  `unexpected argument "stray"`,
	} {
		if _, _, err := ParseFlags([]string{args}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v does not name %s", args, err, want)
		}
	}
}

func TestFlagsDefaultsAndVersion(t *testing.T) {
	t.Parallel()
	o, version, err := ParseFlags([]string{"--data-path=/var/lib/x", "--lookupd-tcp-address=a:4160",
		"--lookupd-tcp-address=b:4160", "--version"})
	if err != nil || !version {
		t.Fatalf("version %v, error %v", version, err)
	}
	if o.DataPath != "/var/lib/x" || o.TCPAddress != "0.0.0.0:4150" || o.HTTPAddress != "0.0.0.0:4151" ||
		o.HTTPSAddress != "0.0.0.0:4152" ||
		!slices.Equal(o.LookupdTCPAddresses, []string{"a:4160", "b:4160"}) {
		t.Fatalf("options %+v", o)
	}
}
