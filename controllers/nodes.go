package controllers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers/nsqapi"
)

// nodeState is what one queue daemon answered in a reconcile: the topic's
// stats after the daemon was made as declared, or why that failed.
type nodeState struct {
	stats *nsqapi.TopicStats
	err   error // names the daemon
}

// summarize is the Ready condition of a topic or channel (what) held by
// held of states' daemons: true when every daemon answered, otherwise false
// with the failures, so that one lost daemon shows without hiding the rest.
func summarize(what string, held int32, states []nodeState) (ok bool, reason, msg string) {
	var failed []string
	reason = ReasonReady
	for _, s := range states {
		if s.err == nil {
			continue
		}
		if len(failed) == 0 {
			reason = failReason(s.err)
		}
		failed = append(failed, s.err.Error())
	}
	msg = fmt.Sprintf("%s on %d of %d nodes", what, held, len(states))
	if len(failed) == 0 {
		return true, reason, msg
	}
	n := len(failed)
	const shown = 3
	if n > shown {
		failed = append(failed[:shown], fmt.Sprintf("and %d more", n-shown))
	}
	return false, reason, fmt.Sprintf("%s; %d failed: %s", msg, n, strings.Join(failed, "; "))
}

// nodes lists the queue daemons' HTTP addresses from the first lookup that
// answers /nodes.
func nodes(ctx context.Context, d nsqapi.Daemons, lookups []string) ([]string, error) {
	var lastErr error = fmt.Errorf("no lookup address")
	for _, a := range lookups {
		ps, err := d.Nodes(ctx, a)
		if err != nil {
			lastErr = err
			continue
		}
		out := make([]string, 0, len(ps))
		for _, p := range ps {
			out = append(out, p.HTTPAddr())
		}
		return out, nil
	}
	return nil, fmt.Errorf("listing nodes: %w", lastErr)
}

// failReason is the Ready reason for err from a lookup or daemon: one that
// answered with an error is NSQError, one that did not answer Unreachable.
func failReason(err error) string {
	var ae *nsqapi.APIError
	if errors.As(err, &ae) {
		return ReasonNSQError
	}
	return v1alpha1.ReasonUnreachable
}

// nodeEvents gathers what one reconcile did on the daemons, by event
// reason, so that each becomes one event naming every node ("created topic
// orders on 2 nodes: a, b"): events about one object with one reason are
// merged into a series that keeps only the first note. The daemons are
// asked in parallel, hence the lock.
type nodeEvents struct {
	mu    sync.Mutex
	nodes map[string][]string
}

func (e *nodeEvents) add(reason, node string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.nodes == nil {
		e.nodes = map[string][]string{}
	}
	e.nodes[reason] = append(e.nodes[reason], node)
}

// emit records the gathered events about obj, which the notes call what.
// The Created note also says on how many of the daemons it is now, the
// count status shows: another reconciler (a Channel's makes its topic) may
// have created it on the others.
func (e *nodeEvents) emit(rec events.EventRecorder, obj runtime.Object, what string, held int32, nodes int) {
	for _, a := range []struct{ reason, action, verb string }{
		{EventCreated, "Create", "created"},
		{EventPaused, "Pause", "paused"},
		{EventUnpaused, "Unpause", "unpaused"},
	} {
		done := slices.Sorted(slices.Values(e.nodes[a.reason]))
		if len(done) == 0 {
			continue
		}
		note := fmt.Sprintf("%s %s on %s: %s", a.verb, what, countNodes(len(done)), strings.Join(done, ", "))
		if a.reason == EventCreated {
			note += fmt.Sprintf("; now on %d of %d nodes", held, nodes)
		}
		record(rec, obj, nil, corev1.EventTypeNormal, a.reason, a.action, "%s", note)
	}
}

// topicHeld counts the daemons that hold the topic: those that answered
// with its stats. Status and the Created event count with it.
func topicHeld(states []nodeState) int32 {
	var n int32
	for _, s := range states {
		if s.err == nil && s.stats != nil {
			n++
		}
	}
	return n
}

// channelHeld counts the daemons whose stats show the channel.
func channelHeld(states []nodeState, channel string) int32 {
	var n int32
	for _, s := range states {
		if s.err == nil && findChannel(s.stats, channel) != nil {
			n++
		}
	}
	return n
}

func pauseAction(paused bool) nsqapi.Action {
	if paused {
		return nsqapi.Pause
	}
	return nsqapi.Unpause
}

func pauseEvent(paused bool) string {
	if paused {
		return EventPaused
	}
	return EventUnpaused
}

func countNodes(n int) string {
	if n == 1 {
		return "1 node"
	}
	return fmt.Sprintf("%d nodes", n)
}

// maxParallelCalls bounds the daemons one reconcile asks at once: a
// daemon that does not answer costs one timeout per reconcile, not one per
// daemon, and a large fleet is not asked all at once.
const maxParallelCalls = 16

// onEach runs call(i) for every i < n, at most maxParallelCalls at a time,
// and returns once all have.
func onEach(n int, call func(i int)) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxParallelCalls)
	for i := range n {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			call(i)
		})
	}
	wg.Wait()
}

// askNodes runs ask on every daemon in parallel (onEach) and returns their
// states in the order of addrs.
func askNodes(addrs []string, ask func(addr string) (*nsqapi.TopicStats, error)) []nodeState {
	states := make([]nodeState, len(addrs))
	onEach(len(addrs), func(i int) {
		st, err := ask(addrs[i])
		states[i] = nodeState{stats: st, err: err}
	})
	return states
}

// registerEverywhere runs register on every lookup address, in parallel,
// going on past failures: it returns the addresses that answered, or the
// first failure when none did. Replicas share nothing, so each one that
// answers counts.
func registerEverywhere(addrs []string, register func(addr string) error) ([]string, error) {
	errs := make([]error, len(addrs))
	onEach(len(addrs), func(i int) { errs[i] = register(addrs[i]) })
	var ok []string
	var first error
	for i, a := range addrs {
		if errs[i] != nil {
			first = cmp.Or(first, errs[i])
			continue
		}
		ok = append(ok, a)
	}
	if len(ok) == 0 {
		return nil, first
	}
	return ok, nil
}

// deleteEverywhere runs onNode on every daemon the lookups list and onLookup
// on every lookup, going on past failures so that one lost daemon does not
// keep the topic or channel on the others; it returns how many daemons there
// were and the failures.
func deleteEverywhere(ctx context.Context, d nsqapi.Daemons, lookups []string, onNode, onLookup func(addr string) error) (int, error) {
	addrs, err := nodes(ctx, d, lookups)
	if err != nil {
		return 0, err
	}
	errs := make([]error, len(addrs)+len(lookups))
	onEach(len(addrs), func(i int) { errs[i] = ignoreNotFound(onNode(addrs[i])) })
	onEach(len(lookups), func(i int) { errs[len(addrs)+i] = ignoreNotFound(onLookup(lookups[i])) })
	return len(addrs), errors.Join(errs...)
}

// noReplicaMessage explains a Lookup that exists but lists no lookupd to use.
func noReplicaMessage(lookup string) string {
	return fmt.Sprintf("Lookup %q has no serving lookupd replica (its headless Service %s lists none): "+
		"check its pods with kubectl get pods -l app.kubernetes.io/instance=%s", lookup, headlessServiceName(lookup), lookup)
}
