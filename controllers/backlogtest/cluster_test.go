package backlogtest

import (
	"context"
	"fmt"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/internal/testenv"
	"github.com/sidequeue/sidequeue/sidecar/inject"
)

// The parts of a cluster that envtest lacks, each played by the test.

const (
	testImage  = "sidequeue:test"
	lookupAddr = "lookupd-0.example:4160"
)

// node creates a Ready node, as a kubelet registers it.
func node(t *testing.T, name string) *corev1.Node {
	t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelHostname: name}}}
	must(t, k8s.Create(context.Background(), n))
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), n) })
	setNodeReady(t, n, true)
	return n
}

// setNodeReady is the kubelet's heartbeat, or the node controller marking
// a silent node NotReady.
func setNodeReady(t *testing.T, n *corev1.Node, ready bool) {
	t.Helper()
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	update(t, n, func() {
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status,
			LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
	}, true)
}

// publisher creates a pod as the webhook injects it (sidecar/inject's own
// mutation, with an external Lookup), scheduled to nodeName, and then its
// sidecar volume claim, as the ephemeral volume controller does: named
// <pod>-sidequeue-data, controlled by the pod.
func publisher(t *testing.T, ns, name, nodeName string, annotations ...string) *corev1.Pod {
	t.Helper()
	pod := publisherObject(t, ns, name, nodeName, annotations...)
	must(t, k8s.Create(context.Background(), pod))
	claim(t, pod)
	return pod
}

// publisherObject is a publisher pod as the webhook returns it, not yet
// created.
func publisherObject(t *testing.T, ns, name, nodeName string, annotations ...string) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Labels: map[string]string{v1alpha1.InjectKey: "true"}, Annotations: map[string]string{}},
		Spec: corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{{Name: "app", Image: "app:1"}}},
	}
	for i := 0; i+1 < len(annotations); i += 2 {
		pod.Annotations[annotations[i]] = annotations[i+1]
	}
	lookup := &v1alpha1.Lookup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.DefaultLookupName},
		Spec: v1alpha1.LookupSpec{External: &v1alpha1.ExternalLookup{
			TCPAddresses: []string{lookupAddr}, HTTPAddresses: []string{"lookupd-0.example:4161"}}}}
	if out, err := inject.Pod(pod, nil, lookup, inject.Config{Image: testImage}); out != inject.Injected {
		t.Fatalf("injecting %s: %v %v", name, out, err)
	}
	return pod
}

// claim is the ephemeral volume controller's part: the claim of the pod's
// sidecar volume, from its template.
func claim(t *testing.T, pod *corev1.Pod) *corev1.PersistentVolumeClaim {
	t.Helper()
	c := testenv.EphemeralClaim(pod, v1alpha1.SidecarVolumeName)
	must(t, k8s.Create(context.Background(), c))
	return c
}

// sidecarExits is the kubelet's report of a stopped pod: every container
// terminated, the sidecar with message as its termination message, and
// the pod in phase.
func sidecarExits(t *testing.T, pod *corev1.Pod, phase corev1.PodPhase, message string) {
	t.Helper()
	update(t, pod, func() {
		pod.Status.Phase = phase
		pod.Status.InitContainerStatuses = []corev1.ContainerStatus{terminated(v1alpha1.SidecarContainerName, testImage, message)}
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{terminated("app", "app:1", "")}
	}, true)
}

func terminated(name, image, message string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, Image: image, ImageID: image,
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 0, Message: message, StartedAt: metav1.Now(), FinishedAt: metav1.Now()}}}
}

// kubeletDone is how the kubelet ends a pod it stopped: it asks for the
// deletion with grace 0; the pod stays while a finalizer holds it.
func kubeletDone(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	must(t, client.IgnoreNotFound(k8s.Delete(context.Background(), pod, client.GracePeriodSeconds(0))))
}

// stopPod is a graceful stop the kubelet completes: deletion asked, the
// sidecar's summary reported, the pod finished.
func stopPod(t *testing.T, pod *corev1.Pod, message string) {
	t.Helper()
	must(t, k8s.Delete(context.Background(), pod))
	sidecarExits(t, pod, corev1.PodSucceeded, message)
	kubeletDone(t, pod)
}

// finishJob is the Job controller's report of a finished Job.
func finishJob(t *testing.T, job *batchv1.Job, complete bool) {
	t.Helper()
	update(t, job, func() {
		now := metav1.Now()
		job.Status.StartTime = &now
		if complete {
			job.Status.CompletionTime = &now
			job.Status.Succeeded = 1
			job.Status.Conditions = []batchv1.JobCondition{
				{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now},
				{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now},
			}
			return
		}
		job.Status.Failed = 4
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", LastTransitionTime: now},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded",
				Message: "Job has reached the specified backoff limit", LastTransitionTime: now},
		}
	}, true)
}

// update reads obj afresh, changes it and writes it (its status when
// status), retrying on conflicts with writers such as the operator.
func update(t *testing.T, obj client.Object, change func(), status bool) {
	t.Helper()
	ctx := context.Background()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		change()
		if status {
			return k8s.Status().Update(ctx, obj)
		}
		return k8s.Update(ctx, obj)
	})
	must(t, err)
}

func within(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Within(t, settle, what, cond)
}

func gone(obj client.Object) func() bool {
	return func() bool {
		return apierrors.IsNotFound(k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj))
	}
}

// deleted: obj is gone or going. A claim's deletion waits for the
// pvc-protection controller (not running here) to remove its
// kubernetes.io/pvc-protection finalizer once no pod uses it.
func deleted(obj client.Object) func() bool {
	return func() bool {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
		return apierrors.IsNotFound(err) || (err == nil && obj.GetDeletionTimestamp() != nil)
	}
}

// attachedPublisher is a publisher on a Ready node, in a fresh namespace
// with the operator running, once its Backlog is Attached.
func attachedPublisher(t *testing.T) (string, *corev1.Pod) {
	t.Helper()
	ns := namespace(t)
	startOperator(t, ns)
	pod := publisher(t, ns, "pub", node(t, ns+"-n1").Name)
	inPhase(t, pod, v1alpha1.BacklogAttached)
	return ns, pod
}

// released: the pod is gone or no longer carries the backlog finalizer.
func released(t *testing.T, pod *corev1.Pod) func() bool {
	return func() bool {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(pod), pod)
		if client.IgnoreNotFound(err) != nil {
			t.Fatal(err)
		}
		return err != nil || !controllerutil.ContainsFinalizer(pod, v1alpha1.FinalizerBacklog)
	}
}

// backlogOf reads pod's Backlog, nil when there is none.
func backlogOf(t *testing.T, pod *corev1.Pod) *v1alpha1.Backlog {
	t.Helper()
	var b v1alpha1.Backlog
	err := k8s.Get(context.Background(), client.ObjectKey{Namespace: pod.Namespace, Name: v1alpha1.ClaimName(pod.Name)}, &b)
	if apierrors.IsNotFound(err) {
		return nil
	}
	must(t, err)
	return &b
}

// inPhase waits for pod's Backlog to reach phase and returns it.
func inPhase(t *testing.T, pod *corev1.Pod, phase v1alpha1.BacklogPhase) *v1alpha1.Backlog {
	t.Helper()
	var b *v1alpha1.Backlog
	within(t, fmt.Sprintf("backlog of %s in phase %s", pod.Name, phase), func() bool {
		b = backlogOf(t, pod)
		return b != nil && b.Status.Phase == phase
	})
	return b
}

// jobs lists the drain Jobs in ns.
func jobs(t *testing.T, ns string) []batchv1.Job {
	t.Helper()
	var list batchv1.JobList
	must(t, k8s.List(context.Background(), &list, client.InNamespace(ns)))
	return list.Items
}

func summary(drained bool, depth int) string {
	return fmt.Sprintf(`{"drained":%t,"depth":%d}`, drained, depth)
}
