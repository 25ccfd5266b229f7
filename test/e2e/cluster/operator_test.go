//go:build e2e

package cluster

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// A namespace enforcing the restricted Pod Security Standard admits the
// injected publisher (the sidecar's securityContext passes it), its
// lookupd pods and the consumer, and messages flow.
func (h *harness) testRestrictedNamespace(t *testing.T) {
	labels := map[string]string{enforceLabel: "restricted"}
	for k, v := range injectionEnabled {
		labels[k] = v
	}
	ns := h.namespace(t, shortName(t), labels)
	m := h.setUpMessaging(t, ns, 1)
	h.injectedRoundTrip(t, m, 200)
}

// Every manager pod deleted while a publisher pod with a backlog is being
// deleted: the pod waits, Terminating, on its finalizer; the replacement
// managers catch up (the start-up sweep), hand the backlog to a drain Job,
// and release the pod; every message arrives.
func (h *harness) testManagerDeletedMidScenario(t *testing.T) {
	ns := h.namespace(t, shortName(t), injectionEnabled)
	m := h.setUpMessaging(t, ns, 1)
	pod := h.runPublisherPod(t, m, publisher{name: "pub", count: 300, inject: true,
		annotations: map[string]string{v1alpha1.AnnotationDrainTimeout: "1s"}})
	s := h.waitPublished(t, ns, pod.Name)

	old, err := h.managerPods(ctx(t))
	must(t, err)
	for i := range old {
		must(t, client.IgnoreNotFound(h.k8s.Delete(ctx(t), &old[i])))
	}
	must(t, h.k8s.Delete(ctx(t), pod))
	h.waitManagerReplaced(t, old)
	h.waitManagerReady(t)
	h.waitPodGone(t, ns, pod.Name)

	claim := v1alpha1.ClaimName(pod.Name)
	b := h.waitBacklog(t, ns, claim, v1alpha1.BacklogDraining)
	h.consumeAll(t, m, s)
	h.waitGone(t, &v1alpha1.Backlog{}, ns, b.Name)
	h.waitGone(t, &corev1.PersistentVolumeClaim{}, ns, claim)
}

// waitManagerReplaced waits until none of the old manager pods is left.
func (h *harness) waitManagerReplaced(t testing.TB, old []corev1.Pod) {
	t.Helper()
	eventually(t, medium, "the old manager pods gone", func(ctx context.Context) (bool, error) {
		pods, err := h.managerPods(ctx)
		if err != nil {
			return false, err
		}
		for _, p := range pods {
			for _, o := range old {
				if p.UID == o.UID {
					return false, fmt.Errorf("%s still there", p.Name)
				}
			}
		}
		return true, nil
	})
}
