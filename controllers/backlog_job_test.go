package controllers

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// A drain Job's name is a valid label value (its pods carry it), unique
// per Backlog and attempt, and readable when it fits.
func TestDrainJobName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("web-frontend-", 10) + "7d9f8b6c5-x2x7q-sidequeue-data"
	seen := map[string]bool{}
	for _, backlog := range []string{"pub-sidequeue-data", long, long + "x"} {
		for _, attempt := range []int32{1, 2, 1000} {
			name := drainJobName(backlog, attempt)
			if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
				t.Errorf("%q: %v", name, errs)
			}
			if seen[name] {
				t.Errorf("%q given twice", name)
			}
			seen[name] = true
			if name != drainJobName(backlog, attempt) {
				t.Errorf("%q is not deterministic", name)
			}
		}
	}
	if got := drainJobName("pub-sidequeue-data", 1); got != "pub-sidequeue-data-drain-1" {
		t.Errorf("short name %q", got)
	}
}

func TestRetryBackoffDoublesToAnHour(t *testing.T) {
	t.Parallel()
	r := &BacklogReconciler{}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute}
	for i, w := range want {
		if got := r.backoff(int32(i + 1)); got != w {
			t.Errorf("backoff after %d failures: %s, want %s", i+1, got, w)
		}
	}
	if got := r.backoff(50); got != time.Hour {
		t.Errorf("backoff after 50 failures: %s, want the 1h cap", got)
	}
}
