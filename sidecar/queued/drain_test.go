package queued

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func publishN(t *testing.T, d *Daemon, topic string, n int) {
	t.Helper()
	c := dial(t, d)
	for range n {
		c.cmd("PUB "+topic, []byte("m"))
		c.expectOK()
	}
}

func exited(d *Daemon) bool {
	select {
	case <-d.shell.Done():
		return true
	default:
		return false
	}
}

func TestDrainRefusesPublishesServesConsumersAndExits(t *testing.T) {
	t.Parallel()
	logPath := filepath.Join(t.TempDir(), "termination-log")
	d := startDaemon(t, func(o *Options) { o.TerminationLog = logPath })
	sub := subscribe(t, d, "t", "c")
	publishN(t, d, "t", 5)
	d.StartDrain(time.Minute)

	pub := dial(t, d)
	pub.cmd("PUB t", []byte("late"))
	pub.expectError("E_PUB_FAILED PUB failed " + errDraining.Error())
	sub.cmd("RDY 10")
	for range 5 {
		sub.cmd("FIN " + sub.message().id)
	}
	waitFor(t, "the drained daemon to exit", func() bool { return exited(d) })
	if b, _ := os.ReadFile(logPath); string(b) != `{"drained":true,"depth":0}`+"\n" {
		t.Fatalf("termination log %q", b)
	}
}

func TestDrainTimeoutKeepsBacklogForNextStart(t *testing.T) {
	t.Parallel()
	dataPath := t.TempDir()
	logPath := filepath.Join(dataPath, "termination-log")
	d := startDaemon(t, func(o *Options) { o.DataPath, o.TerminationLog = dataPath, logPath })
	subscribe(t, d, "t", "c").Close()
	publishN(t, d, "t", 5)
	d.StartDrain(50 * time.Millisecond)
	waitFor(t, "the drain timeout", func() bool { return exited(d) })
	waitFor(t, "the termination log", func() bool {
		b, _ := os.ReadFile(logPath)
		return string(b) == `{"drained":false,"depth":5}`+"\n"
	})

	again := startDaemon(t, func(o *Options) { o.DataPath, o.DrainOnly = dataPath, true })
	sub := subscribe(t, again, "t", "c")
	sub.cmd("RDY 10")
	for range 5 {
		sub.cmd("FIN " + sub.message().id)
	}
	waitFor(t, "the drain-only daemon to exit once empty", func() bool { return exited(again) })
}

func TestPutConfigDrainStartsDrain(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	httpDo(t, d, "PUT", "/config/drain", nil).expect(t, 200, "")
	httpPost(t, d, "/pub?topic=t", []byte("late")).expectErr(t, 503, "EXITING")
	waitFor(t, "the empty daemon to exit", func() bool { return exited(d) })
}

// PUT /config/drain writes the first summary before it answers, and the
// drain rewrites it as the depth falls, so a kill at any moment leaves
// a near-true depth.
func TestDrainSummaryIsWrittenAtOnceAndRefreshed(t *testing.T) {
	t.Parallel()
	logPath := filepath.Join(t.TempDir(), "termination-log")
	d := startDaemon(t, func(o *Options) { o.TerminationLog, o.DrainSummaryInterval = logPath, time.Millisecond })
	sub := subscribe(t, d, "t", "c")
	publishN(t, d, "t", 5)
	ch := mustChannel(t, d, "t", "c")
	waitFor(t, "the messages in the channel", func() bool { return ch.Depth() == 5 })
	httpDo(t, d, "PUT", "/config/drain", nil).expect(t, 200, "")
	if b, _ := os.ReadFile(logPath); string(b) != `{"drained":false,"depth":5}`+"\n" {
		t.Fatalf("summary %q once the drain began, want drained false, depth 5", b)
	}
	sub.cmd("RDY 2")
	for range 2 {
		sub.cmd("FIN " + sub.message().id)
	}
	sub.cmd("RDY 0")
	waitFor(t, "the summary to say 3 are left", func() bool {
		b, _ := os.ReadFile(logPath)
		return string(b) == `{"drained":false,"depth":3}`+"\n"
	})
	sub.cmd("RDY 3")
	for range 3 {
		sub.cmd("FIN " + sub.message().id)
	}
	waitFor(t, "the drained daemon to exit", func() bool { return exited(d) })
	if b, _ := os.ReadFile(logPath); string(b) != `{"drained":true,"depth":0}`+"\n" {
		t.Fatalf("last summary %q", b)
	}
}

// --drain-only on a data path that holds nothing (a volume the sidecar
// never wrote to) exits 0 at once, drained.
func TestDrainOnlyOnAnEmptyDataPathExitsAtOnce(t *testing.T) {
	t.Parallel()
	logPath := filepath.Join(t.TempDir(), "termination-log")
	d := newDaemon(t, func(o *Options) { o.DrainOnly, o.TerminationLog = true, logPath })
	if err := d.Main(); err != nil {
		t.Fatalf("Main: %v", err)
	}
	if b, _ := os.ReadFile(logPath); string(b) != `{"drained":true,"depth":0}`+"\n" {
		t.Fatalf("summary %q", b)
	}
}

// --drain-only refuses a data path that is missing or not given, instead
// of creating one, finding it empty and reporting a drain that never was:
// the volume with the backlog is mounted somewhere else.
func TestDrainOnlyRefusesAMissingDataPath(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "not-mounted")
	for _, path := range []string{missing, ""} {
		o := NewOptions()
		o.TCPAddress, o.HTTPAddress, o.LogLevel = "127.0.0.1:0", "127.0.0.1:0", "fatal"
		o.DataPath, o.DrainOnly = path, true
		d, err := New(o)
		if err == nil {
			d.Exit()
			t.Fatalf("--drain-only --data-path=%q started", path)
		}
		t.Logf("refused: %v", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("--drain-only created its missing data path")
	}
}

// A summary that cannot be written is logged; the drain still ends, and
// the exit status still says how.
func TestUnwritableSummaryIsNotFatal(t *testing.T) {
	t.Parallel()
	logPath := filepath.Join(t.TempDir(), "no-such-dir", "termination-log")
	d := newDaemon(t, func(o *Options) { o.TerminationLog = logPath })
	main := make(chan error, 1)
	go func() { main <- d.Main() }()
	d.StartDrain(time.Minute)
	if err := <-main; err != nil {
		t.Fatalf("Main: %v", err)
	}
}
