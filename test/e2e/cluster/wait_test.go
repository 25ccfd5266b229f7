//go:build e2e

package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/testutil"
)

// Deadlines: how long a step may take on this 2-core machine, generous
// because other tests share it; a wait ends as soon as its condition holds.
const (
	short  = 1 * time.Minute // an object's status, a pod starting
	medium = 3 * time.Minute // a rollout, a Job, messages flowing
	long   = 6 * time.Minute // a drain with its timeouts
)

// poll is how often a condition is asked: an API server round trip, or a
// pod's /stats through it, is cheap, but not free.
const poll = 250 * time.Millisecond

// eventually waits for cond to hold, up to d, failing the test with what.
// cond's errors do not stop the wait (the cluster is converging); each
// new one is logged, so a timeout says what went wrong last.
func eventually(t testing.TB, d time.Duration, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	var last string
	testutil.WaitEvery(t, what, d, poll, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ok, err := cond(ctx)
		if !ok && err != nil && err.Error() != last {
			last = err.Error()
			t.Logf("waiting for %s: %v", what, err)
		}
		return ok
	})
}

// ctx is a context for one API call of a test.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
