//go:build e2e

package cluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sidequeue/sidequeue/test/e2e/msgs"
)

// tally follows every pod of a publisher Deployment as pods come and go,
// keeping each one's latest /stats, so that a pod replaced by a rollout is
// counted to its end: the publisher lingers after SIGTERM until its final
// numbers (Done) have been read once.
type tally struct {
	mu       sync.Mutex
	bySource map[string]msgs.PublisherStats
	stop     chan struct{}
	stopped  chan struct{}
}

// follow starts a tally of app's pods in ns; stop it with its end method.
func (h *harness) follow(t testing.TB, ns, app string) *tally {
	tl := &tally{bySource: map[string]msgs.PublisherStats{}, stop: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(tl.stopped)
		tick := time.NewTicker(poll)
		defer tick.Stop()
		for {
			tl.round(h, ns, app)
			select {
			case <-tl.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(tl.end)
	return tl
}

// round reads every pod's /stats once; a pod whose numbers are final is
// not asked again.
func (tl *tally) round(h *harness, ns, app string) {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pods, _ := h.appPods(c, ns, app)
	for _, p := range pods {
		tl.mu.Lock()
		final := tl.bySource[p.Name].Done
		tl.mu.Unlock()
		var s msgs.PublisherStats
		if final || p.Status.PodIP == "" || h.stats(c, ns, p.Name, &s) != nil {
			continue
		}
		tl.mu.Lock()
		tl.bySource[p.Name] = s
		tl.mu.Unlock()
	}
}

func (tl *tally) end() {
	select {
	case <-tl.stop:
	default:
		close(tl.stop)
	}
	<-tl.stopped
}

// snapshot is every source's latest numbers and their acknowledged sum.
func (tl *tally) snapshot() (map[string]msgs.PublisherStats, int) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	out, acked := map[string]msgs.PublisherStats{}, 0
	for k, v := range tl.bySource {
		out[k] = v
		acked += v.Acked
	}
	return out, acked
}

// A rolling update of a publishing Deployment while a consumer reads:
// each old pod's app stops on SIGTERM, its sidecar drains to the consumer
// before it exits, and not one acknowledged message is lost.
func (h *harness) testRollingUpdateLosesNothing(t *testing.T) {
	ns := h.namespace(t, shortName(t), injectionEnabled)
	m := h.setUpMessaging(t, ns, 1)
	h.deployConsumer(t, m, "cons")
	d := h.deployPublisher(t, m, publisher{name: "pub", rate: 50, inject: true}, 2)
	h.waitRolledOut(t, d)
	tl := h.follow(t, ns, "pub")
	waitAcked(t, tl, 200)

	// Any change to the template rolls the pods, one by one.
	before := d.Status.ObservedGeneration
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Template.Annotations["e2e.sidequeue.io/rollout"] = time.Now().UTC().Format(time.RFC3339Nano)
	must(t, h.k8s.Patch(ctx(t), d, patch))
	h.waitRolledOut(t, d)
	if d.Status.ObservedGeneration <= before {
		t.Fatalf("no rollout: generation %d", d.Status.ObservedGeneration)
	}
	_, acked := tl.snapshot()
	waitAcked(t, tl, acked+200) // the new pods publish too

	// Stop publishing (replicas 0) so every number is final.
	h.scale(t, d, 0)
	eventually(t, medium, "every publisher pod gone", func(ctx context.Context) (bool, error) {
		pods, err := h.appPods(ctx, ns, "pub")
		return len(pods) == 0, err
	})
	tl.end()
	bySource, acked := tl.snapshot()
	var pubs []msgs.PublisherStats
	for src, s := range bySource {
		if !s.Done {
			t.Errorf("%s: its final numbers were never read (%d acknowledged when last read)", src, s.Acked)
		}
		pubs = append(pubs, s)
	}
	if len(pubs) < 4 {
		t.Fatalf("%d publisher pods counted, want at least 4 (2 before the rollout, 2 after)", len(pubs))
	}
	cons := h.waitAppPod(t, ns, "cons")
	h.waitReceived(t, ns, cons.Name, pubs...)
	t.Logf("rolling update: %d pods, %d acknowledged, 0 lost", len(pubs), acked)
}

// waitAcked waits until the tally's pods have acknowledged n in all.
func waitAcked(t testing.TB, tl *tally, n int) {
	t.Helper()
	eventually(t, medium, fmt.Sprintf("%d publishes acknowledged", n), func(context.Context) (bool, error) {
		_, acked := tl.snapshot()
		return acked >= n, fmt.Errorf("%d acknowledged", acked)
	})
}

// waitRolledOut waits until the Deployment's rollout is complete, all its
// replicas updated and available; d is left as last read.
func (h *harness) waitRolledOut(t testing.TB, d *appsv1.Deployment) {
	t.Helper()
	eventually(t, medium, "Deployment "+d.Name+" rolled out", func(ctx context.Context) (bool, error) {
		if err := h.k8s.Get(ctx, client.ObjectKeyFromObject(d), d); err != nil {
			return false, err
		}
		s, want := d.Status, *d.Spec.Replicas
		done := s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.AvailableReplicas == want && s.Replicas == want
		return done, fmt.Errorf("replicas %d updated %d available %d, want %d", s.Replicas, s.UpdatedReplicas, s.AvailableReplicas, want)
	})
}

// scale sets the Deployment's replicas.
func (h *harness) scale(t testing.TB, d *appsv1.Deployment, replicas int32) {
	t.Helper()
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Replicas = &replicas
	must(t, h.k8s.Patch(ctx(t), d, patch))
}
