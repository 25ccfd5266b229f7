package backlogtest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers"
)

// An injected pod's claim gets a Backlog as a second owner as soon as it
// appears; the pod stays its controller.
func TestBacklogOwnsClaimBesideItsPod(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	startOperator(t, ns)
	pod := publisher(t, ns, "pub", node(t, ns+"-n1").Name)

	b := inPhase(t, pod, v1alpha1.BacklogAttached)
	if b.Status.Pod != pod.Name || b.Status.Node != ns+"-n1" || b.Spec.PodUID != pod.UID || b.Spec.Image != testImage {
		t.Errorf("backlog %+v %+v", b.Spec, b.Status)
	}
	c := claimOf(t, pod)
	if ctl := metav1.GetControllerOf(c); ctl == nil || ctl.UID != pod.UID {
		t.Errorf("the pod is no longer the claim's controller: %+v", c.OwnerReferences)
	}
	if !ownedBy(c, b) {
		t.Errorf("claim owners %+v lack the backlog", c.OwnerReferences)
	}
}

// A sidecar that drained its queue leaves nothing to keep: the Backlog
// goes, the pod's finalizer goes, and the garbage collector takes the
// claim with the pod.
func TestCleanDrainReleasesEverything(t *testing.T) {
	t.Parallel()
	ns, pod := attachedPublisher(t)
	c := claimOf(t, pod)

	stopPod(t, pod, summary(true, 0))
	within(t, "the pod to go", gone(pod))
	within(t, "the backlog to go", func() bool { return backlogOf(t, pod) == nil })
	collectGarbage(t, ns)
	within(t, "the claim to go with its owners", deleted(c))
	if js := jobs(t, ns); len(js) != 0 {
		t.Errorf("a drained sidecar got drain jobs: %v", js)
	}
}

// A sidecar that left messages gets exactly one drain Job, however often
// the handoff is reconciled and however often the operator restarts, and
// the pod's finalizer goes only once the Job exists.
func TestBacklogGetsExactlyOneJob(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	op := startOperator(t, ns)
	pod := publisher(t, ns, "pub", node(t, ns+"-n1").Name)
	inPhase(t, pod, v1alpha1.BacklogAttached)

	stopPod(t, pod, summary(false, 20000))
	b := inPhase(t, pod, v1alpha1.BacklogDraining)
	if b.Status.Depth == nil || *b.Status.Depth != 20000 || b.Status.Job != v1alpha1.ClaimName(pod.Name)+"-drain-1" {
		t.Errorf("draining backlog status %+v", b.Status)
	}
	within(t, "the pod to be released", gone(pod))
	if js := jobs(t, ns); len(js) != 1 {
		t.Fatalf("%d jobs, want 1", len(js))
	}
	within(t, "events of each phase", func() bool {
		return hasEvent(t, b, "Attached", "holds the queue") && hasEvent(t, b, "Draining", "left 20000 messages behind")
	})

	// Restarts, and reconciles forced by changes to everything watched.
	for i := 0; i < 3; i++ {
		op.shutdown()
		op = startOperator(t, ns)
		update(t, b, func() { b.Labels = map[string]string{"poke": string(rune('a' + i))} }, false)
		c := claimOf(t, pod)
		update(t, c, func() { c.Annotations = map[string]string{"poke": string(rune('a' + i))} }, false)
	}
	inPhase(t, pod, v1alpha1.BacklogDraining)
	if js := jobs(t, ns); len(js) != 1 {
		t.Fatalf("%d jobs after restarts, want 1", len(js))
	}
	collectGarbage(t, ns)
	if claimOf(t, pod) == nil {
		t.Fatal("the claim went while its backlog drains")
	}

	js := jobs(t, ns)
	finishJob(t, &js[0], true)
	within(t, "the backlog to go once drained", func() bool { return backlogOf(t, pod) == nil })
	collectGarbage(t, ns)
	within(t, "the claim to go", deleted(claimOf(t, pod)))
	within(t, "the job to go with its backlog", func() bool { return len(jobs(t, ns)) == 0 })
}

// The finalizer goes only after the Job exists: with the operator stopped
// between the two, the pod is still held.
func TestFinalizerOutlivesNoJob(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	op := startOperator(t, ns)
	pod := publisher(t, ns, "pub", node(t, ns+"-n1").Name)
	inPhase(t, pod, v1alpha1.BacklogAttached)
	op.shutdown()

	stopPod(t, pod, summary(false, 3))
	must(t, k8s.Get(context.Background(), client.ObjectKeyFromObject(pod), pod))
	if !controllerutil.ContainsFinalizer(pod, v1alpha1.FinalizerBacklog) {
		t.Fatal("the pod lost its finalizer with no operator running")
	}
	startOperator(t, ns)
	within(t, "the pod to be released", gone(pod))
	if js := jobs(t, ns); len(js) != 1 {
		t.Fatalf("%d jobs, want 1", len(js))
	}
}

// The kubelet's report is the sidecar's current state: a termination
// message left in lastState by a sidecar restarted before the end does not
// count.
func TestLastStateIgnored(t *testing.T) {
	t.Parallel()
	_, pod := attachedPublisher(t)

	must(t, k8s.Delete(context.Background(), pod))
	update(t, pod, func() {
		pod.Status.Phase = corev1.PodFailed
		s := terminated(v1alpha1.SidecarContainerName, testImage, "") // SIGKILLed: no summary
		s.LastTerminationState = terminated(v1alpha1.SidecarContainerName, testImage, summary(true, 0)).State
		pod.Status.InitContainerStatuses = []corev1.ContainerStatus{s}
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{terminated("app", "app:1", "")}
	}, true)
	kubeletDone(t, pod)
	b := inPhase(t, pod, v1alpha1.BacklogDraining)
	if b.Status.Depth != nil {
		t.Errorf("depth %d from an empty message, want unknown", *b.Status.Depth)
	}
}

// An evicted pod is Failed without being deleted: its backlog is handed
// off all the same, and a drained one released.
func TestEvictedPod(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	startOperator(t, ns)
	n := node(t, ns+"-n1").Name
	left := publisher(t, ns, "left", n)
	clean := publisher(t, ns, "clean", n)
	inPhase(t, left, v1alpha1.BacklogAttached)
	inPhase(t, clean, v1alpha1.BacklogAttached)

	sidecarExits(t, left, corev1.PodFailed, summary(false, 7))
	sidecarExits(t, clean, corev1.PodFailed, summary(true, 0))
	inPhase(t, left, v1alpha1.BacklogDraining)
	within(t, "the drained pod's backlog to go", func() bool { return backlogOf(t, clean) == nil })
	for _, pod := range []*corev1.Pod{left, clean} {
		within(t, pod.Name+" to lose its finalizer", released(t, pod))
	}
}

// sidequeue.io/skip-handoff, set on a running pod, lets it go at once with
// its claim.
func TestSkipHandoff(t *testing.T) {
	t.Parallel()
	ns, pod := attachedPublisher(t)

	update(t, pod, func() { pod.Annotations[v1alpha1.AnnotationSkipHandoff] = "true" }, false)
	within(t, "the backlog to go", func() bool { return backlogOf(t, pod) == nil })
	within(t, "the pod's finalizer to go", released(t, pod))
	stopPod(t, pod, summary(false, 9))
	within(t, "the pod to go", gone(pod))
	if js := jobs(t, ns); len(js) != 0 {
		t.Errorf("skip-handoff still got %d drain jobs", len(js))
	}
}

// A failed drain Job is followed, after a backoff, by another; the claim is
// kept meanwhile.
func TestFailedJobRetried(t *testing.T) {
	t.Parallel()
	// A backoff long enough to see Failed on a loaded machine: an operator
	// that first sees the failure after the backoff starts the next Job at
	// once.
	ns := namespace(t)
	startOperator(t, ns, func(r *controllers.BacklogReconciler) { r.RetryBackoff = 5 * time.Second })
	pod := publisher(t, ns, "pub", node(t, ns+"-n1").Name)
	inPhase(t, pod, v1alpha1.BacklogAttached)
	stopPod(t, pod, summary(false, 5))
	inPhase(t, pod, v1alpha1.BacklogDraining)

	js := jobs(t, ns)
	finishJob(t, &js[0], false)
	b := inPhase(t, pod, v1alpha1.BacklogFailed)
	if c := ready(b); c == nil || c.Reason != "DrainFailed" {
		t.Errorf("failed backlog condition %+v", c)
	}
	collectGarbage(t, ns)
	if claimOf(t, pod) == nil {
		t.Fatal("the claim went after a failed drain")
	}
	within(t, "a second drain job", func() bool { return len(jobs(t, ns)) == 2 })
	b = inPhase(t, pod, v1alpha1.BacklogDraining)
	if b.Status.Attempts != 2 || b.Status.Job != v1alpha1.ClaimName(pod.Name)+"-drain-2" {
		t.Errorf("retry status %+v", b.Status)
	}
}

// A failed drain Job first seen once its backoff is over goes straight to
// the next Job, and the failure is still told, as a warning event.
func TestFailureSeenLateIsStillTold(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	startOperator(t, ns, func(r *controllers.BacklogReconciler) { r.RetryBackoff = time.Millisecond })
	pod := publisher(t, ns, "pub", node(t, ns+"-n1").Name)
	inPhase(t, pod, v1alpha1.BacklogAttached)
	stopPod(t, pod, summary(false, 5))
	b := inPhase(t, pod, v1alpha1.BacklogDraining)
	js := jobs(t, ns)
	finishJob(t, &js[0], false)
	within(t, "a second drain job", func() bool { return len(jobs(t, ns)) == 2 })
	within(t, "a warning that the first failed", func() bool {
		return hasEvent(t, b, string(v1alpha1.BacklogFailed), "drain Job "+js[0].Name+" failed")
	})
}

// A pod that began terminating, and finished, while the operator was down
// is handed off when it starts: nothing waits for an event.
func TestOperatorStartedAfterPodBeganTerminating(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	pod := publisher(t, ns, "pub", node(t, ns+"-n1").Name)
	stopPod(t, pod, summary(false, 11))

	startOperator(t, ns)
	b := inPhase(t, pod, v1alpha1.BacklogDraining)
	if b.Status.Depth == nil || *b.Status.Depth != 11 {
		t.Errorf("status %+v", b.Status)
	}
	within(t, "the pod to be released", gone(pod))
	if !ownedBy(claimOf(t, pod), b) {
		t.Error("the claim is not owned by its backlog")
	}
}

func claimOf(t *testing.T, pod *corev1.Pod) *corev1.PersistentVolumeClaim {
	t.Helper()
	var c corev1.PersistentVolumeClaim
	err := k8s.Get(context.Background(), client.ObjectKey{Namespace: pod.Namespace, Name: v1alpha1.ClaimName(pod.Name)}, &c)
	if client.IgnoreNotFound(err) != nil {
		t.Fatal(err)
	}
	if err != nil {
		return nil
	}
	return &c
}

func ownedBy(obj client.Object, b *v1alpha1.Backlog) bool {
	return obj != nil && slices.ContainsFunc(obj.GetOwnerReferences(), func(ref metav1.OwnerReference) bool {
		return ref.UID == b.UID && ref.Kind == "Backlog" && (ref.Controller == nil || !*ref.Controller)
	})
}

func ready(b *v1alpha1.Backlog) *metav1.Condition {
	return meta.FindStatusCondition(b.Status.Conditions, v1alpha1.ConditionReady)
}

// hasEvent reports whether an event about b has reason and a note
// containing text.
func hasEvent(t *testing.T, b *v1alpha1.Backlog, reason, text string) bool {
	var list eventsv1.EventList
	must(t, k8s.List(context.Background(), &list, client.InNamespace(b.Namespace)))
	return slices.ContainsFunc(list.Items, func(e eventsv1.Event) bool {
		return e.Regarding.UID == b.UID && e.Reason == reason && strings.Contains(e.Note, text)
	})
}
