package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests run the built demo (DEMO_BIN, set by `make test-demo`, which
// builds it) and end it the ways a person does: a closed output, as after
// `make demo | tee demo.log` and Ctrl-C, and kill -9. Nothing it started may
// outlive it. They need bin/k8s and the daemons in bin/, and lookupd's
// ports 4160/4161, so `go test ./...` skips them.

// startedMarker is the demo's first line after every process it runs has
// started: etcd, kube-apiserver, lookupd, two queued, the manager.
const startedMarker = "==> applying the sample"

var demoChildren = []string{"etcd", "kube-apiserver", "lookupd", "queued", "manager"}

func TestDemoStopsWhenStdoutCloses(t *testing.T) {
	run := startDemo(t)
	kids := run.children(t)
	run.out.Close() // the reader goes away, like tee on Ctrl-C

	err := run.wait(t, time.Minute)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("demo ended with %v, want exit status 1 (not a SIGPIPE death); stderr:\n%s", err, run.stderr.String())
	}
	waitGone(t, kids)
	if _, err := os.Stat(run.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("work directory %s left behind (stat: %v)", run.dir, err)
	}
}

func TestDemoChildrenDieOnKill(t *testing.T) {
	run := startDemo(t)
	kids := run.children(t)
	go drain(run.out)
	if err := run.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = run.wait(t, 10*time.Second)
	waitGone(t, kids) // the parent-death signal

	// kill -9 leaves the work directory; the next demo, or demo -clean,
	// removes it.
	if _, err := os.Stat(run.dir); err != nil {
		t.Fatalf("work directory %s: %v, want it left for -clean", run.dir, err)
	}
	out, err := exec.Command(demoBin(t), "-clean").CombinedOutput()
	if err != nil || !strings.Contains(string(out), run.dir) {
		t.Errorf("demo -clean: %v\n%s", err, out)
	}
	if _, err := os.Stat(run.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("work directory %s still there after demo -clean (stat: %v)", run.dir, err)
	}
}

type demoRun struct {
	cmd    *exec.Cmd
	out    *os.File // the read end of the demo's stdout
	stderr *bytes.Buffer
	lines  *bufio.Scanner
	dir    string // its work directory
	done   chan error
}

func demoBin(t *testing.T) string {
	bin := os.Getenv("DEMO_BIN")
	if bin == "" {
		t.Skip("DEMO_BIN not set: `make test-demo` builds the demo and runs this")
	}
	return bin
}

// startDemo starts an interactive demo and reads its output until every
// process it runs has started.
func startDemo(t *testing.T) *demoRun {
	bin := demoBin(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	run := &demoRun{out: r, stderr: &bytes.Buffer{}, lines: bufio.NewScanner(r), done: make(chan error, 1)}
	run.cmd = exec.Command(bin)
	run.cmd.Dir = filepath.Join("..", "..")
	run.cmd.Env = append(os.Environ(), "CI=false")
	run.cmd.Stdout, run.cmd.Stderr = w, run.stderr
	if err := run.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	go func() { run.done <- run.cmd.Wait() }()
	t.Cleanup(func() {
		_ = run.cmd.Process.Kill()
		r.Close()
	})
	run.readUntilStarted(t)
	return run
}

func (run *demoRun) readUntilStarted(t *testing.T) {
	found := make(chan bool, 1)
	go func() {
		for run.lines.Scan() {
			line := run.lines.Text()
			if dir, ok := strings.CutPrefix(line, "==> work directory "); ok {
				run.dir, _, _ = strings.Cut(dir, " ")
			}
			if strings.HasPrefix(line, startedMarker) {
				found <- true
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if !ok || run.dir == "" {
			t.Fatalf("the demo ended before it started everything; stderr:\n%s", run.stderr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the demo did not start everything within 2 minutes")
	}
}

// children lists the demo's descendants, checking that each process the
// demo runs is among them.
func (run *demoRun) children(t *testing.T) []procID {
	kids := descendants(run.cmd.Process.Pid)
	names := map[string]bool{}
	for _, k := range kids {
		names[k.comm] = true
	}
	for _, want := range demoChildren {
		if !names[want] {
			t.Fatalf("no %s among the demo's processes %v", want, kids)
		}
	}
	return kids
}

func (run *demoRun) wait(t *testing.T, timeout time.Duration) error {
	select {
	case err := <-run.done:
		return err
	case <-time.After(timeout):
		t.Fatalf("the demo still runs %s later", timeout)
		return nil
	}
}

func drain(f *os.File) {
	buf := make([]byte, 4096)
	for {
		if _, err := f.Read(buf); err != nil {
			return
		}
	}
}

// waitGone waits until none of procs runs any more.
func waitGone(t *testing.T, procs []procID) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var left []procID
		for _, p := range procs {
			if p.alive() {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, p := range left {
				_ = syscall.Kill(p.pid, syscall.SIGKILL)
			}
			t.Fatalf("still running 30s after the demo ended: %v", left)
		}
		time.Sleep(100 * time.Millisecond) // polling /proc; nothing to wait on
	}
}
