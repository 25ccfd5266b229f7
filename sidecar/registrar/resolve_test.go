package registrar

import (
	"context"
	"slices"
	"testing"
)

func TestToTargets(t *testing.T) {
	cases := []struct {
		name  string
		hosts []string
		want  []string
	}{
		{"bare IPs take the port", []string{"10.0.0.2", "10.0.0.1", "10.0.0.2"}, []string{"10.0.0.1:4160", "10.0.0.2:4160"}},
		{"pairs keep their port", []string{"127.0.0.1:5001", "127.0.0.1:5002"}, []string{"127.0.0.1:5001", "127.0.0.1:5002"}},
		{"dual stack keeps IPv4", []string{"::1", "127.0.0.1"}, []string{"127.0.0.1:4160"}},
		{"IPv6 only", []string{"fd00::2", "[fd00::3]:5000"}, []string{"[fd00::2]:4160", "[fd00::3]:5000"}},
	}
	for _, tc := range cases {
		if got := toTargets(tc.hosts, "4160"); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestTargetsMergeLiteralsAndNames(t *testing.T) {
	res := newFakeResolver()
	res.set("lookupd.test", "10.0.0.1", "10.0.0.2")
	var logged []string
	opts := withDefaults(Options{
		Addresses: []string{"10.0.0.1:4160", "lookupd.test:4160", "no-port", "[::1]:4160"},
		Resolver:  res,
		Logf:      func(f string, a ...any) { logged = append(logged, f) },
	})
	got := newResolution(opts).targets(context.Background())
	want := []string{"10.0.0.1:4160", "10.0.0.2:4160", "[::1]:4160"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if res.calls != 1 {
		t.Errorf("resolver called %d times; literals must not be resolved", res.calls)
	}
	if len(logged) != 2 { // the invalid address, and what the name resolved to
		t.Errorf("logged %q", logged)
	}
}
