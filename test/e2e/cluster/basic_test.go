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

// A managed Lookup of two replicas is Ready (one ready lookupd serves), then
// says two are ready once two lookupd pods run and are ready; a Topic and a
// Channel on it are Ready.
func (h *harness) testLookupTopicChannelReady(t *testing.T) {
	ns := h.namespace(t, shortName(t), nil)
	m := h.setUpMessaging(t, ns, 2)
	var l v1alpha1.Lookup
	eventually(t, short, "the Lookup's status to count 2 ready lookupd pods", func(ctx context.Context) (bool, error) {
		if err := h.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: m.lookup}, &l); err != nil {
			return false, err
		}
		pods := h.lookupdPods(t, &l)
		return len(pods) == 2 && l.Status.ReadyReplicas == 2,
			fmt.Errorf("%d lookupd pods ready, status readyReplicas %d", len(pods), l.Status.ReadyReplicas)
	})
	t.Logf("Lookup %s: consumers use %v, daemons %v", m.lookup, l.Status.ConsumerAddresses, l.Status.DaemonAddresses)
}

// An annotated publisher in an opted-in namespace gets the native sidecar
// and a bound claim, and its app's very first publish (seq 0) to
// 127.0.0.1:4150 is acknowledged: the sidecar was ready before the app
// started. A pod that did not ask is left as it was.
func (h *harness) testInjectionAndFirstPublish(t *testing.T) {
	ns := h.namespace(t, shortName(t), injectionEnabled)
	m := h.setUpMessaging(t, ns, 1)
	h.deployPublisher(t, m, publisher{name: "pub", count: 100, inject: true}, 1)
	pod := h.waitAppPod(t, ns, "pub")
	checkInjected(t, &pod)
	h.waitClaimBound(t, ns, v1alpha1.ClaimName(pod.Name))
	s := h.waitPublished(t, ns, pod.Name)
	if !s.AckedIDs.Has(0) || s.Acked != 100 || s.Failed != 0 {
		t.Fatalf("first publish acknowledged: %v; %d acknowledged, %d failed (%s); want seq 0 and all 100",
			s.AckedIDs.Has(0), s.Acked, s.Failed, s.FirstError)
	}

	h.deployConsumer(t, m, "cons")
	plain := h.waitAppPod(t, ns, "cons")
	if len(plain.Spec.InitContainers) != 0 || len(plain.Spec.Containers) != 1 || plain.Labels[v1alpha1.LabelInjected] != "" ||
		plain.Annotations[v1alpha1.AnnotationStatus] != "" || hasEnv(plain.Spec.Containers[0], v1alpha1.EnvQueueTCPAddress) {
		t.Errorf("a pod that did not ask was changed: init %d, containers %d, labels %v, env %v",
			len(plain.Spec.InitContainers), len(plain.Spec.Containers), plain.Labels, plain.Spec.Containers[0].Env)
	}
	h.waitReceived(t, ns, plain.Name, s)
}

// checkInjected checks what DESIGN.md says injection adds, as far as the
// running pod shows it: the first init container is the sidecar with
// restartPolicy Always, the volume is a generic ephemeral claim, the app
// is told where the daemon is, the pod is labelled and holds the finalizer.
func checkInjected(t testing.TB, pod *corev1.Pod) {
	t.Helper()
	if len(pod.Spec.InitContainers) == 0 || pod.Spec.InitContainers[0].Name != v1alpha1.SidecarContainerName {
		t.Fatalf("pod %s: no sidecar as first init container: %+v", pod.Name, pod.Spec.InitContainers)
	}
	if rp := pod.Spec.InitContainers[0].RestartPolicy; rp == nil || *rp != corev1.ContainerRestartPolicyAlways {
		t.Errorf("pod %s: the sidecar is no native sidecar (restartPolicy %v)", pod.Name, rp)
	}
	if pod.Labels[v1alpha1.LabelInjected] != "true" {
		t.Errorf("pod %s: label %s = %q", pod.Name, v1alpha1.LabelInjected, pod.Labels[v1alpha1.LabelInjected])
	}
	var ephemeral bool
	for _, v := range pod.Spec.Volumes {
		ephemeral = ephemeral || (v.Name == v1alpha1.SidecarVolumeName && v.Ephemeral != nil)
	}
	if !ephemeral {
		t.Errorf("pod %s: no generic ephemeral volume %s", pod.Name, v1alpha1.SidecarVolumeName)
	}
	if !hasEnv(pod.Spec.Containers[0], v1alpha1.EnvQueueTCPAddress) {
		t.Errorf("pod %s: the app has no %s", pod.Name, v1alpha1.EnvQueueTCPAddress)
	}
	if !hasString(pod.Finalizers, v1alpha1.FinalizerBacklog) {
		t.Errorf("pod %s: finalizers %v, want %s", pod.Name, pod.Finalizers, v1alpha1.FinalizerBacklog)
	}
}

func hasEnv(c corev1.Container, name string) bool {
	for _, e := range c.Env {
		if e.Name == name {
			return true
		}
	}
	return false
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// waitClaimBound waits until the claim is Bound and checks its label.
func (h *harness) waitClaimBound(t testing.TB, ns, name string) {
	t.Helper()
	var pvc corev1.PersistentVolumeClaim
	eventually(t, medium, "claim "+name+" Bound", func(ctx context.Context) (bool, error) {
		if err := h.k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &pvc); err != nil {
			return false, err
		}
		return pvc.Status.Phase == corev1.ClaimBound, fmt.Errorf("phase %s", pvc.Status.Phase)
	})
	if pvc.Labels[v1alpha1.LabelVolume] != "true" {
		t.Errorf("claim %s: labels %v, want %s", name, pvc.Labels, v1alpha1.LabelVolume)
	}
}

// Two publishers (two pods of one Deployment, told apart by their pod
// names in every body) and a consumer that finds their daemons through
// the Lookup's Service: every acknowledged message of each arrives.
func (h *harness) testConsumerReceivesEveryAcked(t *testing.T) {
	ns := h.namespace(t, shortName(t), injectionEnabled)
	m := h.setUpMessaging(t, ns, 1)
	h.deployConsumer(t, m, "cons")
	h.deployPublisher(t, m, publisher{name: "pub", count: 500, inject: true}, 2)
	var pods []corev1.Pod
	eventually(t, medium, "two publisher pods", func(ctx context.Context) (bool, error) {
		var err error
		pods, err = h.appPods(ctx, ns, "pub")
		return len(pods) == 2, err
	})
	var pubs []msgs.PublisherStats
	for _, p := range pods {
		pubs = append(pubs, h.waitPublished(t, ns, p.Name))
	}
	cons := h.waitAppPod(t, ns, "cons")
	c := h.waitReceived(t, ns, cons.Name, pubs...)
	if len(c.Received) != 2 || c.Malformed != 0 {
		t.Errorf("received from %d sources (%d malformed), want 2", len(c.Received), c.Malformed)
	}
}
