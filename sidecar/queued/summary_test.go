package queued

import (
	"os"
	"path/filepath"
	"testing"
)

// The summary is rewritten in place (the kubelet's file cannot be renamed
// over): a shorter line leaves nothing of the longer one behind.
func TestWriteInPlaceReplacesTheWholeFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "termination-log")
	for _, line := range []string{`{"drained":false,"depth":20000}` + "\n", `{"drained":true,"depth":0}` + "\n"} {
		if err := writeInPlace(path, []byte(line)); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != line {
			t.Fatalf("file holds %q, want %q", b, line)
		}
	}
	if err := writeInPlace(os.DevNull, []byte("{}\n")); err != nil {
		t.Fatalf("a summary to a device (%s): %v", os.DevNull, err)
	}
}

// Once the last summary is written, a drain's late refresh cannot replace
// it; an unchanged summary is not written again.
func TestTheLastSummaryStays(t *testing.T) {
	t.Parallel()
	logPath := filepath.Join(t.TempDir(), "termination-log")
	d := newDaemon(t, func(o *Options) { o.TerminationLog = logPath })
	d.summary.write(5, false)
	os.Remove(logPath)
	d.summary.write(5, false)
	if _, err := os.Stat(logPath); err == nil {
		t.Fatal("an unchanged summary was written again")
	}
	d.summary.write(0, true)
	d.summary.write(3, false)
	if b, _ := os.ReadFile(logPath); string(b) != `{"drained":true,"depth":0}`+"\n" {
		t.Fatalf("summary %q after the last one, want it kept", b)
	}
}
