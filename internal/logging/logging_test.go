package logging

import (
	"fmt"
	"testing"
)

func TestLevelsFilterAndSetLevelChangesThem(t *testing.T) {
	var got []string
	l := New("", "warn", func(level, format string, args ...any) {
		got = append(got, level+" "+fmt.Sprintf(format, args...))
	})
	l.Logf("INFO", "dropped %d", 1)
	l.Logf("ERROR", "kept %d", 2)
	if err := l.SetLevel("Debug"); err != nil {
		t.Fatal(err)
	}
	l.Logf("DEBUG", "kept %d", 3)
	if err := l.SetLevel("loud"); err == nil {
		t.Fatal("SetLevel accepted an invalid level")
	}
	l.Logf("DEBUG", "kept %d", 4) // the invalid level changed nothing
	want := []string{"ERROR kept 2", "DEBUG kept 3", "DEBUG kept 4"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestAnInvalidLevelIsInfo(t *testing.T) {
	l := New("", "", nil)
	if l.Enabled(Debug) || !l.Enabled(Info) {
		t.Fatal("an invalid level is not Info")
	}
	if _, err := ParseLevel(""); err == nil {
		t.Fatal("ParseLevel accepted an empty level")
	}
}
