package shell

import (
	"errors"
	"testing"
)

func TestExitRunsOnceAndWaitsForTheLoops(t *testing.T) {
	s := New()
	var steps []string
	release := make(chan struct{})
	s.Go(func() { <-release; steps = append(steps, "loop") })
	stops := 0
	stop := func() { stops++; steps = append(steps, "stop"); close(release) }
	s.Exit(stop, func() { steps = append(steps, "release") })
	s.Exit(stop, nil)
	if stops != 1 {
		t.Fatalf("stop ran %d times", stops)
	}
	if got := len(steps); got != 3 || steps[2] != "release" {
		t.Fatalf("steps %q: want stop and the loop, then release", steps)
	}
	ran := false
	s.Go(func() { ran = true })
	if s.Locked(func() {}) || !s.Exiting() {
		t.Fatal("the shell does not know it is exiting")
	}
	s.Exit(func() {}, nil) // would wait for a loop started after the exit
	if ran {
		t.Fatal("a loop started after the exit")
	}
}

func TestServeGivesAFailedServersError(t *testing.T) {
	s := New()
	boom := errors.New("boom")
	exit := func() { s.Exit(func() {}, nil) }
	err := s.Serve(exit, func() error { <-s.Done(); return nil }, func() error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Serve returned %v, want %v", err, boom)
	}
	if got := s.StopReason(); got != "error: boom" {
		t.Fatalf("StopReason %q", got)
	}
	s.StopBecause("later")
	if got := s.StopReason(); got != "error: boom" {
		t.Fatalf("a later reason replaced the first: %q", got)
	}
}
