package backlogtest

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/internal/testenv"
)

// A pod on a node that stopped answering never reports: no drain starts
// until the pod is fenced, by the out-of-service taint or by the node's
// deletion, so two daemons never write one volume.
func TestLostNodeWaitsForFencing(t *testing.T) {
	t.Parallel()
	for _, fence := range []string{"out-of-service", "node deleted"} {
		t.Run(fence, func(t *testing.T) {
			t.Parallel()
			ns := namespace(t)
			startOperator(t, ns)
			n := node(t, ns+"-n1")
			pod := publisher(t, ns, "pub", n.Name)
			inPhase(t, pod, v1alpha1.BacklogAttached)

			// The node controller marks the silent node NotReady; the
			// taint manager deletes the pod, and no kubelet answers.
			setNodeReady(t, n, false)
			must(t, k8s.Delete(context.Background(), pod, client.GracePeriodSeconds(1)))
			b := inPhase(t, pod, v1alpha1.BacklogFencing)
			if c := ready(b); c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "out-of-service") {
				t.Errorf("fencing condition %+v", c)
			}
			if js := jobs(t, ns); len(js) != 0 {
				t.Fatalf("a drain job started on an unfenced volume: %v", js[0].Name)
			}

			if fence == "out-of-service" {
				update(t, n, func() {
					n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "node.kubernetes.io/out-of-service",
						Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute})
				}, false)
			} else {
				must(t, k8s.Delete(context.Background(), n))
			}
			b = inPhase(t, pod, v1alpha1.BacklogDraining)
			if b.Status.Depth != nil {
				t.Errorf("depth %d of a pod that never reported, want unknown", *b.Status.Depth)
			}
			within(t, "the fenced pod to be released", released(t, pod))
		})
	}
}

// In a namespace being deleted, new Jobs are forbidden and the namespace
// waits for its pods: their finalizer goes at once, backlog or not.
func TestTerminatingNamespaceNeverWaits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns, pod := attachedPublisher(t)

	must(t, k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	// The namespace controller's part: it deletes the namespace's pods.
	must(t, k8s.Delete(ctx, pod))
	within(t, "the pod's finalizer to go", func() bool {
		must(t, k8s.Get(ctx, client.ObjectKeyFromObject(pod), pod))
		return !controllerutil.ContainsFinalizer(pod, v1alpha1.FinalizerBacklog)
	})
	if js := jobs(t, ns); len(js) != 0 {
		t.Errorf("%d drain jobs in a terminating namespace", len(js))
	}
}

// A claim bound to a node-local volume whose node is gone cannot be read:
// the Backlog says Lost, starts no Job, and lets the pod go.
func TestVolumeOnGoneNodeIsLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := namespace(t)
	startOperator(t, ns)
	n := node(t, ns+"-n1")
	pod := publisher(t, ns, "pub", n.Name)
	inPhase(t, pod, v1alpha1.BacklogAttached)
	bindToLocalVolume(t, claimOf(t, pod), n.Name)

	must(t, k8s.Delete(ctx, n))
	// The pod garbage collector's part for a pod on a deleted node.
	sidecarExits(t, pod, corev1.PodFailed, "")
	kubeletDone(t, pod)
	b := inPhase(t, pod, v1alpha1.BacklogLost)
	if c := ready(b); c == nil || !strings.Contains(c.Message, n.Name) {
		t.Errorf("lost condition %+v", c)
	}
	within(t, "the pod to be released", gone(pod))
	if js := jobs(t, ns); len(js) != 0 {
		t.Errorf("%d drain jobs for a lost volume", len(js))
	}
}

// bindToLocalVolume is the volume binder's part: a local PV pinned to
// nodeName, bound to c.
func bindToLocalVolume(t *testing.T, c *corev1.PersistentVolumeClaim, nodeName string) {
	t.Helper()
	pv := testenv.LocalVolume(c, nodeName)
	must(t, k8s.Create(context.Background(), pv))
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), pv) })
	update(t, c, func() { c.Spec.VolumeName = pv.Name }, false)
}
