//go:build e2e

package cluster

import (
	"context"
	"fmt"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// A publisher pod deleted with a backlog, no consumer running and a drain
// timeout too short to hand it over: its Backlog keeps the claim, a drain
// Job serves the backlog once a consumer comes, every acknowledged message
// arrives, and then the Backlog, the Job and the claim are gone.
func (h *harness) testBacklogHandedToDrainJob(t *testing.T) {
	ns := h.namespace(t, shortName(t), injectionEnabled)
	m := h.setUpMessaging(t, ns, 1)
	pod := h.runPublisherPod(t, m, publisher{name: "pub", count: 500, inject: true,
		annotations: map[string]string{v1alpha1.AnnotationDrainTimeout: "1s"}})
	s := h.waitPublished(t, ns, pod.Name)
	claim := v1alpha1.ClaimName(pod.Name)
	h.waitBacklog(t, ns, claim, v1alpha1.BacklogAttached)

	must(t, h.k8s.Delete(ctx(t), pod))
	b := h.waitBacklog(t, ns, claim, v1alpha1.BacklogDraining)
	if b.Status.Depth == nil || *b.Status.Depth == 0 || b.Status.Job == "" {
		t.Fatalf("Backlog %s Draining with depth %v, job %q; want the backlog's depth and a Job", claim, b.Status.Depth, b.Status.Job)
	}
	t.Logf("Backlog %s: depth %d, drain Job %s", claim, *b.Status.Depth, b.Status.Job)
	h.waitPodGone(t, ns, pod.Name)

	h.consumeAll(t, m, s)
	h.waitGone(t, &v1alpha1.Backlog{}, ns, claim)
	h.waitGone(t, &batchv1.Job{}, ns, b.Status.Job)
	h.waitGone(t, &corev1.PersistentVolumeClaim{}, ns, claim)
}

// waitBacklog waits until the claim's Backlog is in phase and returns it.
func (h *harness) waitBacklog(t testing.TB, ns, name string, phase v1alpha1.BacklogPhase) *v1alpha1.Backlog {
	t.Helper()
	var b v1alpha1.Backlog
	eventually(t, long, fmt.Sprintf("Backlog %s %s", name, phase), func(ctx context.Context) (bool, error) {
		if err := h.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &b); err != nil {
			return false, err
		}
		return b.Status.Phase == phase, fmt.Errorf("phase %q, conditions %+v", b.Status.Phase, b.Status.Conditions)
	})
	return &b
}

// waitGone waits until the object of obj's kind named ns/name is gone.
func (h *harness) waitGone(t testing.TB, obj client.Object, ns, name string) {
	t.Helper()
	eventually(t, long, fmt.Sprintf("%T %s gone", obj, name), func(ctx context.Context) (bool, error) {
		err := h.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj)
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, fmt.Errorf("still there (deletion %v, finalizers %v): %v", obj.GetDeletionTimestamp(), obj.GetFinalizers(), err)
	})
}

// waitPodGone waits until the pod has left the API: no pod stays
// Terminating (DESIGN.md, "Never wedged").
func (h *harness) waitPodGone(t testing.TB, ns, name string) {
	t.Helper()
	h.waitGone(t, &corev1.Pod{}, ns, name)
}
