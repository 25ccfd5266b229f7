package version

import "testing"

func TestImage(t *testing.T) {
	if got, want := Image(), "sidequeue:"+Version; got != want {
		t.Fatalf("Image() = %q, want %q", got, want)
	}
	if Version == "" || Version[0] == 'v' {
		t.Fatalf("Version %q: want a version without a leading v", Version)
	}
}
