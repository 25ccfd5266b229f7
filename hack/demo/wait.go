package main

import (
	"context"
	"fmt"
	"time"
)

const pollInterval = 200 * time.Millisecond

// waitFor calls check every pollInterval until it returns nil, ctx ends or
// timeout passes. check's last error says what was still missing, so it is
// what the timeout reports.
func waitFor(ctx context.Context, timeout time.Duration, what string, check func(context.Context) error) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		err := check(ctx)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return context.Cause(ctx)
		case time.Now().After(deadline):
			return fmt.Errorf("waiting for %s: still not there after %s: %w", what, timeout, err)
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-tick.C:
		}
	}
}
