package install

import (
	"context"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/internal/testenv"
)

// exerciseBacklog takes an injected pod through the backlog handoff under
// the manager's ServiceAccount: its claim kept by a Backlog, the pod
// deleted and waited for past its grace period (the node read), stopped
// by its kubelet with a backlog, its claim's volume checked (the volume
// and its node read), a drain Job started and the pod released, the Job
// complete and the Backlog gone. The test plays the kubelet, the
// ephemeral volume controller, the volume binder and the Job controller.
func exerciseBacklog(t *testing.T, ns string, m *managerProc) {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("backlog status %+v\nthe manager's log:\n%s", backlogStatus(ns), m.tail())
		}
	})
	ctx := context.Background()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "backlog-node",
		Labels: map[string]string{corev1.LabelHostname: "backlog-node"}}}
	must(t, k8s.Create(ctx, node))
	setStatus(t, node, func() {
		node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	})
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "handoff",
			Annotations: map[string]string{v1alpha1.InjectKey: "true"}},
		Spec: corev1.PodSpec{NodeName: node.Name, Containers: []corev1.Container{{Name: "app", Image: "publisher:1"}}},
	}
	must(t, k8s.Create(ctx, pod))
	claim := claimFor(t, pod)
	bindLocal(t, claim, node.Name)
	backlog := &v1alpha1.Backlog{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: claim.Name}}
	within(t, "the Backlog to own the claim", func() bool {
		must(t, client.IgnoreNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(claim), claim)))
		for _, ref := range claim.OwnerReferences {
			if ref.Kind == "Backlog" {
				return true
			}
		}
		return false
	})

	must(t, k8s.Delete(ctx, pod, client.GracePeriodSeconds(1)))
	within(t, "the operator to look at the node once the grace period is over", func() bool {
		must(t, client.IgnoreNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(backlog), backlog)))
		c := meta.FindStatusCondition(backlog.Status.Conditions, v1alpha1.ConditionReady)
		return c != nil && strings.Contains(c.Message, "waiting for its kubelet")
	})
	setStatus(t, pod, func() {
		pod.Status.Phase = corev1.PodFailed
		pod.Status.InitContainerStatuses = []corev1.ContainerStatus{exited(v1alpha1.SidecarContainerName, `{"drained":false,"depth":3}`)}
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{exited("app", "")}
	})
	must(t, client.IgnoreNotFound(k8s.Delete(ctx, pod, client.GracePeriodSeconds(0))))
	within(t, "a drain Job and the pod released", func() bool {
		must(t, client.IgnoreNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(backlog), backlog)))
		return backlog.Status.Job != "" && apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(pod), pod))
	})
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: backlog.Status.Job}}
	setStatus(t, job, func() {
		now := metav1.Now()
		job.Status.StartTime, job.Status.CompletionTime, job.Status.Succeeded = &now, &now, 1
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now},
		}
	})
	within(t, "the drained Backlog to go", func() bool {
		return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(backlog), backlog))
	})
}

// claimFor is the ephemeral volume controller's claim for the pod's
// sidecar volume.
func claimFor(t *testing.T, pod *corev1.Pod) *corev1.PersistentVolumeClaim {
	t.Helper()
	c := testenv.EphemeralClaim(pod, v1alpha1.SidecarVolumeName)
	if c == nil {
		t.Fatalf("pod %s was injected without a claim", pod.Name)
	}
	must(t, k8s.Create(context.Background(), c))
	return c
}

// bindLocal is the volume binder's part: a local volume on nodeName.
func bindLocal(t *testing.T, c *corev1.PersistentVolumeClaim, nodeName string) {
	t.Helper()
	pv := testenv.LocalVolume(c, nodeName)
	must(t, k8s.Create(context.Background(), pv))
	must(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		must(t, k8s.Get(context.Background(), client.ObjectKeyFromObject(c), c))
		c.Spec.VolumeName = pv.Name
		return k8s.Update(context.Background(), c)
	}))
}

// setStatus reads obj afresh, changes it and writes its status.
func setStatus(t *testing.T, obj client.Object, change func()) {
	t.Helper()
	must(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		must(t, k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj))
		change()
		return k8s.Status().Update(context.Background(), obj)
	}))
}

func exited(name, message string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, Image: name, ImageID: name,
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Message: message,
			StartedAt: metav1.Now(), FinishedAt: metav1.Now()}}}
}

func backlogStatus(ns string) any {
	var list v1alpha1.BacklogList
	_ = k8s.List(context.Background(), &list, client.InNamespace(ns))
	out := []any{}
	for _, b := range list.Items {
		out = append(out, b.Name, b.Status)
	}
	return out
}
