package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// The work directory holds the kubeconfig, every log, etcd's data and the
// daemons' data. The demo removes it on every way out but one: kill -9
// leaves no chance to. So each directory records the demo's pid, and every
// demo first removes the directories of demos that are gone (`demo -clean`
// does only that).
const (
	workPrefix  = "sidequeue-demo-"
	pidFileName = "demo.pid"
)

// newWorkDir makes a work directory that names this process as its owner.
func newWorkDir() (string, error) {
	dir, err := os.MkdirTemp("", workPrefix)
	if err != nil {
		return "", fmt.Errorf("work directory: %w", err)
	}
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	if err := os.WriteFile(filepath.Join(dir, pidFileName), pid, 0o600); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("work directory: %w", err)
	}
	return dir, nil
}

// cleanStale removes the work directories of demos that no longer run and
// returns their paths. A directory without a pid file is left alone: a demo
// may be creating it right now, or it was not made by a demo that knew.
func cleanStale() ([]string, error) {
	dirs, err := filepath.Glob(filepath.Join(os.TempDir(), workPrefix+"*"))
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, pidFileName))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 || running(pid) {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("removing stale %s: %w", dir, err))
			continue
		}
		removed = append(removed, dir)
	}
	return removed, errors.Join(errs...)
}

// running says whether a process with this pid exists (a pid reused by
// another process counts: the directory then waits for the next run).
func running(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
