package cli

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	fs := NewFlagSet("thing")
	fs.String("addr", ":1", "where to listen")
	usage := func(w io.Writer) { Usage(w, "thing is a test binary.", fs) }

	var out, errOut bytes.Buffer
	if code := Report(&out, &errOut, "thing", fs.Parse([]string{"--help"}), usage); code != 0 {
		t.Errorf("--help: exit %d, want 0", code)
	}
	if first, _, _ := strings.Cut(out.String(), "\n"); first != "thing is a test binary." {
		t.Errorf("--help: first line %q", first)
	}
	if !strings.Contains(out.String(), "-addr") || errOut.Len() != 0 {
		t.Errorf("--help: stdout %q, stderr %q", out.String(), errOut.String())
	}

	out.Reset()
	err := fs.Parse([]string{"--nope"})
	if code := Report(&out, &errOut, "thing", err, usage); code != ExitUsage {
		t.Errorf("--nope: exit %d, want %d", code, ExitUsage)
	}
	want := "thing: flag provided but not defined: -nope\nRun 'thing --help' for the list of flags.\n"
	if errOut.String() != want || out.Len() != 0 {
		t.Errorf("--nope: stderr %q, want %q; stdout %q", errOut.String(), want, out.String())
	}
	if errors.Is(err, flag.ErrHelp) {
		t.Error("a wrong flag is not a request for help")
	}
}
