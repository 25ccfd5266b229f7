package diskqueue

import (
	"io"
	"os"
)

// file is what the queue needs of an open segment. *os.File is one; tests
// wrap it to watch writes and fsyncs.
type file interface {
	io.Writer
	io.WriterAt
	io.ReaderAt
	Sync() error
	Close() error
	Truncate(size int64) error
	Stat() (os.FileInfo, error)
}

// fileSystem is the seam over the file layer.
type fileSystem interface {
	OpenFile(name string, flag int, perm os.FileMode) (file, error)
	Remove(name string) error
	Rename(oldpath, newpath string) error
	SyncDir(dir string) error
}

type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm os.FileMode) (file, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (osFS) Remove(name string) error             { return os.Remove(name) }
func (osFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// SyncDir makes created, renamed and removed names in dir survive a power loss.
func (osFS) SyncDir(dir string) error { return SyncDir(dir) }

// SyncDir fsyncs a directory, so that names created, renamed and removed in
// it survive a power loss; queued uses it for its own metadata file.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
