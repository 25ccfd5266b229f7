package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
)

// envtest starts etcd and kube-apiserver itself, with a SysProcAttr of its
// own (a process group, no parent-death signal) and no way to change it.
// So the demo points envtest at links named etcd and kube-apiserver to its
// own executable: started under such a name, the demo sets the Linux
// parent-death signal to SIGKILL and execs the real binary, which keeps the
// signal. Then etcd and kube-apiserver die with the demo, even on kill -9.
const (
	envRealBin   = "SIDEQUEUE_DEMO_REAL_BIN"   // directory of the real etcd and kube-apiserver
	envParentPID = "SIDEQUEUE_DEMO_PARENT_PID" // the demo that started the wrapper
)

var wrapped = map[string]bool{"etcd": true, "kube-apiserver": true}

// execIfWrapper execs the real binary when this process was started as one
// of the links; otherwise it returns and the demo runs.
func execIfWrapper() {
	name := filepath.Base(os.Args[0])
	dir := os.Getenv(envRealBin)
	if !wrapped[name] || dir == "" {
		return
	}
	// The signal is armed on this thread, and the exec must happen on it.
	runtime.LockOSThread()
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0); errno != 0 {
		fmt.Fprintf(os.Stderr, "%s wrapper: prctl(PR_SET_PDEATHSIG): %v\n", name, errno)
		os.Exit(1)
	}
	// The demo may have died before the signal was armed.
	if strconv.Itoa(os.Getppid()) != os.Getenv(envParentPID) {
		fmt.Fprintf(os.Stderr, "%s wrapper: the demo is gone\n", name)
		os.Exit(1)
	}
	real := filepath.Join(dir, name)
	err := syscall.Exec(real, append([]string{real}, os.Args[1:]...), os.Environ())
	fmt.Fprintf(os.Stderr, "%s wrapper: exec %s: %v\n", name, real, err)
	os.Exit(1)
}

// controlPlaneBinaries returns the directory envtest should start etcd and
// kube-apiserver from: links to the demo in work, which exec those in bin.
func controlPlaneBinaries(bin, work string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("the demo's own executable: %w", err)
	}
	links := filepath.Join(work, "bin")
	if err := os.MkdirAll(links, 0o755); err != nil {
		return "", err
	}
	for name := range wrapped {
		if err := os.Symlink(self, filepath.Join(links, name)); err != nil {
			return "", fmt.Errorf("parent-death wrapper: %w", err)
		}
	}
	if err := os.Setenv(envRealBin, bin); err != nil {
		return "", err
	}
	if err := os.Setenv(envParentPID, strconv.Itoa(os.Getpid())); err != nil {
		return "", err
	}
	return links, nil
}
