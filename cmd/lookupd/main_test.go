package main

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/testutil"
	"github.com/sidequeue/sidequeue/internal/version"
)

func TestCommandLine(t *testing.T) {
	bin := testutil.Build(t, "lookupd", ".")
	testutil.CheckCLI(t, bin, "lookupd", about)
}

// What a person sees when lookupd starts and stops: the version, where it
// listens, that it keeps no data, and why it stopped, each line behind
// --log-prefix.
func TestStartAndStopLines(t *testing.T) {
	bin := testutil.Build(t, "lookupd", ".")
	d := testutil.StartBinary(t, bin, `HTTP: listening on 127\.0\.0\.1:\d+`, 30*time.Second,
		"--tcp-address=127.0.0.1:0", "--http-address=127.0.0.1:0", "--broadcast-address=lookupd-0", "--log-prefix=[lookupd-0] ")
	if code := d.Stop(t, syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
	want := []string{
		`INFO: ` + regexp.QuoteMeta(version.String()) + `, nsqlookupd protocol v1\.3\.0, broadcast address lookupd-0$`,
		`INFO: no data path: registrations live in memory`,
		`INFO: TCP: listening on 127\.0\.0\.1:\d+$`,
		`INFO: HTTP: listening on 127\.0\.0\.1:\d+$`,
		`INFO: EXIT: received SIGTERM: stopping$`,
		`INFO: EXIT: stopped$`,
	}
	lines := strings.Split(strings.TrimSpace(d.Stderr.String()), "\n")
	for i, re := range want {
		if i >= len(lines) || !regexp.MustCompile(`^\[lookupd-0\] .* `+re).MatchString(lines[i]) {
			t.Errorf("line %d does not match %s; stderr:\n%s", i+1, re, d.Stderr)
		}
	}
}
