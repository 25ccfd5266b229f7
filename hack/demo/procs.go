package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a process gets between SIGTERM and SIGKILL.
const stopGrace = 10 * time.Second

// supervisor starts the demo's processes, each logging to <dir>/<name>.log,
// reports any that exits before it is told to stop, and stops them all.
type supervisor struct {
	dir  string
	fail context.CancelCauseFunc // called when a process exits on its own

	mu       sync.Mutex
	procs    []*proc
	stopping bool
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited
}

func newSupervisor(dir string, fail context.CancelCauseFunc) *supervisor {
	return &supervisor{dir: dir, fail: fail}
}

func (s *supervisor) logPath(name string) string {
	return filepath.Join(s.dir, name+".log")
}

// start runs path with args, and env added to this process's environment.
func (s *supervisor) start(name string, env []string, path string, args ...string) error {
	log, err := os.Create(s.logPath(name))
	if err != nil {
		return fmt.Errorf("%s log: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	go s.wait(p, log)
	return nil
}

func (s *supervisor) wait(p *proc, log *os.File) {
	err := p.cmd.Wait()
	log.Close()
	close(p.done)
	s.mu.Lock()
	stopping := s.stopping
	s.mu.Unlock()
	if !stopping {
		if err == nil {
			err = fmt.Errorf("exit status 0")
		}
		s.fail(withLogs(fmt.Errorf("%s exited on its own (%w)", p.name, err), p.name))
	}
}

// stopAll stops every process, newest first: clients of a server stop
// before it does.
func (s *supervisor) stopAll() {
	s.mu.Lock()
	s.stopping = true
	procs := s.procs
	s.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].stop()
	}
}

// stop sends SIGTERM, then SIGKILL after stopGrace, and waits for the exit.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		fmt.Fprintf(os.Stderr, "==> %s still running %s after SIGTERM: SIGKILL\n", p.name, stopGrace)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}
