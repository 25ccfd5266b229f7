package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestResolve(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "docs", "guide"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"README.md", "docs/guide/a.md"} {
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	from := "docs/guide/b.md"
	for target, broken := range map[string]bool{
		"a.md":                 false,
		"a.md#some-section":    false,
		"../../README.md":      false,
		"/docs/guide":          false,
		"#anchor":              false,
		"https://example.org/": false,
		"missing.md":           true,
		"../../../outside.md":  true,
		"../design/api.md#x":   true,
	} {
		if got := resolve(root, from, target) != ""; got != broken {
			t.Errorf("resolve(%q) broken = %v, want %v", target, got, broken)
		}
	}
}

func TestTargets(t *testing.T) {
	got := targets(`see [a](a.md "title"), [b](<b c.md>) and [c](https://x/y)`)
	want := []string{"a.md", "https://x/y"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("targets = %q, want %q", got, want)
	}
	if got := targets(`[ref]: ../x.md "t"`); len(got) != 1 || got[0] != "../x.md" {
		t.Errorf("reference targets = %q", got)
	}
}
