package testutil

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Build compiles the main package pkg (as go build takes it, e.g. "." from
// the package's own test) into a temporary directory as name and returns
// the binary's path: what a person runs, with its real os.Args and exit
// codes.
func Build(t testing.TB, name, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
	if err != nil && strings.Contains(string(out), "-buildvcs=false") {
		// git could not read the checkout (owned by another user, say):
		// the binary is still worth testing, its commit "unknown".
		out, err = exec.Command("go", "build", "-buildvcs=false", "-o", bin, pkg).CombinedOutput()
	}
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// Run runs bin with args to its end and returns its stdout, stderr and
// exit status.
func Run(t testing.TB, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return o.String(), e.String(), code
}

// versionLine is --version's output: "sidequeue <version> (<commit>)", the
// commit shortened, "+dirty" for a changed tree, "unknown" when the build
// had no VCS stamp (a git worktree, -buildvcs=false).
var versionLine = regexp.MustCompile(`^sidequeue [0-9][^ ]* \(([0-9a-f]{7}(\+dirty)?|unknown)\)\n$`)

// CheckCLI checks what every sidequeue binary does with --help, --version
// and a flag it does not know.
func CheckCLI(t *testing.T, bin, name, about string) {
	t.Helper()
	out, errOut, code := Run(t, bin, "--help")
	if first, _, _ := strings.Cut(out, "\n"); code != 0 || first != about || errOut != "" {
		t.Errorf("--help: exit %d, first line %q (want %q), stderr %q", code, first, about, errOut)
	}
	out, errOut, code = Run(t, bin, "--version")
	if code != 0 || !versionLine.MatchString(out) || errOut != "" {
		t.Errorf("--version: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = Run(t, bin, "--no-such-flag")
	want := name + ": flag provided but not defined: -no-such-flag\nRun '" + name + " --help' for the list of flags.\n"
	if code != 2 || errOut != want || out != "" {
		t.Errorf("--no-such-flag: exit %d, stderr %q (want %q), stdout %q", code, errOut, want, out)
	}
}

// Started is a daemon binary started with its stderr collected.
type Started struct {
	Stderr *LockedBuffer
	cmd    *exec.Cmd
	done   chan error
}

// StartBinary starts bin with args and waits until its stderr shows
// ready (a regexp), failing the test after timeout.
func StartBinary(t *testing.T, bin, ready string, timeout time.Duration, args ...string) *Started {
	t.Helper()
	s := &Started{Stderr: &LockedBuffer{}, cmd: exec.Command(bin, args...), done: make(chan error, 1)}
	s.cmd.Stderr = s.Stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.done
	})
	re := regexp.MustCompile(ready)
	deadline := time.Now().Add(timeout)
	for !re.MatchString(s.Stderr.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never printed %q; stderr:\n%s", bin, ready, s.Stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

// Stop sends sig and waits for the process to end; it returns the exit
// status.
func (s *Started) Stop(t *testing.T, sig syscall.Signal, timeout time.Duration) int {
	t.Helper()
	s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
		s.done <- nil // for Cleanup
	case <-time.After(timeout):
		t.Fatalf("still running %s after %s; stderr:\n%s", sig, timeout, s.Stderr)
	}
	return s.cmd.ProcessState.ExitCode()
}

// Signal sends sig without waiting: for a signal the process outlives a
// while, such as SIGTERM to a program that lingers until it is read.
func (s *Started) Signal(sig syscall.Signal) error { return s.cmd.Process.Signal(sig) }
