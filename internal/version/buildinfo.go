package version

import (
	"runtime/debug"
	"sync"
)

// Commit is the commit the binary was built from, as the go command
// stamped it (vcs.revision, shortened as git log --oneline shows it),
// "+dirty" when the tree had changes, and "unknown" when the build has no
// VCS stamp (go test, go run, a tree outside git). Reading the stamp
// needs no -ldflags, so every way of building gets it; a build without
// the go command's stamp (the image's, -buildvcs=false, so that its
// digest depends on the sources alone) sets StampedCommit with -X.
func Commit() string {
	commitOnce.Do(func() {
		commit = StampedCommit
		if commit == "" {
			commit = commitOf(debug.ReadBuildInfo())
		}
	})
	return commit
}

// StampedCommit, when set with -X, is Commit.
var StampedCommit string

var (
	commitOnce sync.Once
	commit     string
)

// shortCommit is how many hex digits of the revision are shown.
const shortCommit = 7

func commitOf(info *debug.BuildInfo, ok bool) string {
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if len(rev) > shortCommit {
		rev = rev[:shortCommit]
	}
	if dirty {
		rev += "+dirty"
	}
	return rev
}

// String is how every binary names itself: for --version, on its
// start-up line and in /info: "sidequeue 1.2.3 (0a1b2c3)".
func String() string { return Repository + " " + Version + " (" + Commit() + ")" }
