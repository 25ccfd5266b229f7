package version

import (
	"runtime/debug"
	"testing"
)

func TestImage(t *testing.T) {
	if got, want := Image(), "sidequeue:"+Version; got != want {
		t.Fatalf("Image() = %q, want %q", got, want)
	}
	if Version == "" || Version[0] == 'v' {
		t.Fatalf("Version %q: want a version without a leading v", Version)
	}
}

func TestCommitOf(t *testing.T) {
	info := func(kv ...string) *debug.BuildInfo {
		b := &debug.BuildInfo{}
		for i := 0; i < len(kv); i += 2 {
			b.Settings = append(b.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return b
	}
	rev := "0123456789abcdef0123456789abcdef01234567"
	for _, c := range []struct {
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{nil, false, "unknown"},
		{info(), true, "unknown"},
		{info("vcs.revision", rev), true, "0123456"},
		{info("vcs.revision", rev, "vcs.modified", "false"), true, "0123456"},
		{info("vcs.revision", rev, "vcs.modified", "true"), true, "0123456+dirty"},
	} {
		if got := commitOf(c.info, c.ok); got != c.want {
			t.Errorf("commitOf(%v) = %q, want %q", c.info, got, c.want)
		}
	}
	if got, want := String(), "sidequeue "+Version+" ("+Commit()+")"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
