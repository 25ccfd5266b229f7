package queued

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// claimDataPath makes sure the data path is a writable directory that no
// other daemon uses, and returns it open and locked: the lock lasts until
// the file is closed or the process ends, however it ends. It is the lock
// nsqd takes (flock on the directory), so queued and nsqd also keep out of
// each other's way. Finding these at start, rather than at the first
// publish, keeps a broken daemon from ever answering /ping with OK.
func claimDataPath(path string) (*os.File, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("--data-path %s cannot be created: %w", path, err)
	}
	dir, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--data-path %s cannot be opened: %w", path, err)
	}
	if err := lockDir(dir); err != nil {
		dir.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("failed to lock data-path %s: another queued or nsqd is using it; give each daemon its own --data-path", path)
		}
		return nil, fmt.Errorf("failed to lock data-path %s: %w", path, err)
	}
	if err := probeWritable(path); err != nil && !isDiskFull(err) {
		dir.Close()
		return nil, fmt.Errorf("--data-path %s is not writable (%w): fix its permissions or mount, or choose another", path, err)
	}
	return dir, nil
}

// isDiskFull reports a disk that is writable but full: the daemon still
// starts, to serve its backlog to consumers, and frees space as it does.
func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// lockWait is how long a lock held by someone else is tried again before
// the start is refused: a daemon that is exiting, or a process forked by
// this one that has not yet run exec (it holds a copy of every open file,
// locks included, for that moment), lets go within it; a second daemon on
// the path does not.
const lockWait = time.Second

func lockDir(dir *os.File) error {
	deadline := time.Now().Add(lockWait)
	for {
		err := syscall.Flock(int(dir.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// probeWritable creates, writes, fsyncs and removes a small file.
func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".queued-probe-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write([]byte{0})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// checkDrainOnlyPath refuses --drain-only without a data path that exists.
// A daemon that created it, or took the working directory, would find
// nothing, exit 0 and report drained: then the operator would let go of a
// volume whose backlog was only mounted somewhere else. An existing path
// that holds nothing is drained at once, and that is the truth.
func checkDrainOnlyPath(path string) error {
	if path == "" {
		return errors.New("--drain-only needs --data-path: the directory whose backlog it serves")
	}
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--drain-only: --data-path %s does not exist: is the volume with the backlog mounted there?", path)
	}
	if err != nil {
		return fmt.Errorf("--drain-only: --data-path %s: %w", path, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("--drain-only: --data-path %s is not a directory", path)
	}
	return nil
}
