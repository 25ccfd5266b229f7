package main

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/testutil"
	"github.com/sidequeue/sidequeue/internal/version"
	"github.com/sidequeue/sidequeue/sidecar/queued"
)

func TestCommandLine(t *testing.T) {
	bin := testutil.Build(t, "queued", ".")
	testutil.CheckCLI(t, bin, "queued", queued.About)
}

// What a person sees when queued starts and stops: the version, where it
// listens and keeps its data, and why it stopped, for each way of stopping.
func TestStartAndStopLines(t *testing.T) {
	bin := testutil.Build(t, "queued", ".")
	for _, c := range []struct {
		sig    syscall.Signal
		reason string
		prefix string // --log-prefix, if not the default
	}{
		{syscall.SIGINT, "EXIT: received SIGINT: stopping", ""},
		{syscall.SIGTERM, "EXIT: drain finished: nothing left: stopping", "[pub-7d9f] "}, // nothing to drain
	} {
		dir := t.TempDir()
		args := []string{"--data-path=" + dir, "--tcp-address=127.0.0.1:0", "--http-address=127.0.0.1:0", "--termination-log=" + dir + "/summary"}
		prefix := `\[queued\] `
		if c.prefix != "" {
			args, prefix = append(args, "--log-prefix="+c.prefix), regexp.QuoteMeta(c.prefix)
		}
		d := testutil.StartBinary(t, bin, `HTTP: listening on 127\.0\.0\.1:\d+`, 30*time.Second, args...)
		if code := d.Stop(t, c.sig, 30*time.Second); code != 0 {
			t.Errorf("%s: exit %d", c.sig, code)
		}
		lines := strings.Split(strings.TrimSpace(d.Stderr.String()), "\n")
		want := []string{
			`^` + prefix + `.* INFO: ` + regexp.QuoteMeta(version.String()) + `, nsqd protocol v1\.3\.0, node ID \d+$`,
			`^` + prefix + `.* INFO: data path ` + regexp.QuoteMeta(dir) + `: 0 topics loaded, 0 messages held$`,
			`^` + prefix + `.* INFO: TCP: listening on 127\.0\.0\.1:\d+$`,
			`^` + prefix + `.* INFO: HTTP: listening on 127\.0\.0\.1:\d+$`,
		}
		for i, re := range want {
			if i >= len(lines) || !regexp.MustCompile(re).MatchString(lines[i]) {
				t.Errorf("%s: line %d does not match %s; stderr:\n%s", c.sig, i+1, re, d.Stderr)
			}
		}
		last := lines[len(lines)-1]
		if !strings.Contains(d.Stderr.String(), c.reason) || !strings.HasSuffix(last, "EXIT: stopped; 0 messages kept in "+dir) {
			t.Errorf("%s: no %q, or last line %q; stderr:\n%s", c.sig, c.reason, last, d.Stderr)
		}
	}
}
