//go:build e2e

package cluster

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/test/e2e/msgs"
)

// The sidecar SIGKILLed while its app publishes: the kubelet restarts it
// on the same volume, and with the disk preset (the default) every
// message acknowledged before the kill is still there for the consumer.
// Publishes while it is down fail, and are not counted as acknowledged.
func (h *harness) testSidecarKilledLosesNothing(t *testing.T) {
	ns := h.namespace(t, shortName(t), injectionEnabled)
	m := h.setUpMessaging(t, ns, 1)
	pod := h.runPublisherPod(t, m, publisher{name: "pub", count: 3000, rate: 100, inject: true})
	h.waitAppPod(t, ns, "pub")
	h.waitAckedAtLeast(t, ns, pod.Name, 500)

	before, err := h.sidecarStatus(ctx(t), ns, pod.Name)
	must(t, err)
	killContainer(t, before)
	eventually(t, medium, "the sidecar restarted and ready", func(ctx context.Context) (bool, error) {
		s, err := h.sidecarStatus(ctx, ns, pod.Name)
		if err != nil {
			return false, err
		}
		ok := s.RestartCount > before.RestartCount && s.Ready && s.State.Running != nil
		return ok, fmt.Errorf("restarts %d, ready %v", s.RestartCount, s.Ready)
	})
	s := h.waitPublished(t, ns, pod.Name)
	t.Logf("publisher: %d acknowledged, %d failed while the sidecar was down (first: %s)", s.Acked, s.Failed, s.FirstError)

	h.consumeAll(t, m, s)
}

// sidecarStatus is the pod's sidecar's status (a native sidecar is an
// init container).
func (h *harness) sidecarStatus(ctx context.Context, ns, pod string) (corev1.ContainerStatus, error) {
	var p corev1.Pod
	if err := h.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: pod}, &p); err != nil {
		return corev1.ContainerStatus{}, err
	}
	for _, s := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
		if s.Name == v1alpha1.SidecarContainerName {
			return s, nil
		}
	}
	return corev1.ContainerStatus{}, fmt.Errorf("pod %s has no %s container status", pod, v1alpha1.SidecarContainerName)
}

// waitAckedAtLeast waits until the publisher pod has n acknowledged.
func (h *harness) waitAckedAtLeast(t testing.TB, ns, pod string, n int) {
	t.Helper()
	eventually(t, medium, fmt.Sprintf("%d publishes acknowledged by %s", n, pod), func(ctx context.Context) (bool, error) {
		var s msgs.PublisherStats
		err := h.stats(ctx, ns, pod, &s)
		return err == nil && s.Acked >= n, err
	})
}
