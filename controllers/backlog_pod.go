package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/internal/termination"
)

// taintOutOfService is how an administrator fences a lost node: its pods
// are deleted, and their volumes detached, without the kubelet.
const taintOutOfService = "node.kubernetes.io/out-of-service"

// reconcilePod handles the pod while it exists. done is false when the
// kubelet is done with a pod that left a backlog: the drain comes next.
func (r *BacklogReconciler) reconcilePod(ctx context.Context, h *handoff) (_ ctrl.Result, done bool, _ error) {
	pod := h.pod
	if pod.DeletionTimestamp != nil {
		if terminating, err := r.namespaceTerminating(ctx, pod.Namespace); err != nil || terminating {
			// New Jobs are forbidden there, and the namespace waits for us.
			if err == nil {
				record(r.Recorder, pod, nil, corev1.EventTypeWarning, EventBacklogLost, "Release",
					"namespace %s is being deleted: the pod's queue goes with it", pod.Namespace)
			}
			return ctrl.Result{}, true, errors.Join(err, r.releasePod(ctx, pod))
		}
	}
	if pod.Annotations[v1alpha1.AnnotationSkipHandoff] == "true" {
		return ctrl.Result{}, true, r.skipHandoff(ctx, h)
	}
	if pod.Spec.NodeName == "" && (pod.DeletionTimestamp != nil || podTerminal(pod)) {
		// Never scheduled: its sidecar never ran, nothing was written.
		return ctrl.Result{}, true, errors.Join(r.deleteBacklog(ctx, h), r.releasePod(ctx, pod))
	}
	if err := r.ensureBacklog(ctx, h); err != nil {
		return ctrl.Result{}, true, err
	}
	if h.backlog != nil {
		h.backlog.Status.Pod, h.backlog.Status.Node = pod.Name, pod.Spec.NodeName
	}
	fenced, err := r.kubeletDone(ctx, h)
	if err != nil || !fenced {
		return ctrl.Result{RequeueAfter: h.requeue}, true, err
	}
	return r.afterKubelet(ctx, h)
}

// afterKubelet reads the sidecar's summary: a drained sidecar leaves
// nothing, and the pod and its claim may go; anything else is a backlog.
func (r *BacklogReconciler) afterKubelet(ctx context.Context, h *handoff) (_ ctrl.Result, done bool, _ error) {
	summary, err := sidecarSummary(h.pod)
	if err == nil && summary.Drained {
		if err := r.deleteBacklog(ctx, h); err != nil {
			return ctrl.Result{}, true, err
		}
		record(r.Recorder, h.pod, nil, corev1.EventTypeNormal, EventDrained, "Release",
			"the sidecar consumed its whole queue before exiting")
		return ctrl.Result{}, true, r.releasePod(ctx, h.pod)
	}
	if h.backlog == nil { // no claim: nothing was kept to drain
		record(r.Recorder, h.pod, nil, corev1.EventTypeWarning, EventBacklogLost, "Release",
			"the sidecar left a backlog (%v) but its claim %s is gone", summaryText(summary, err), h.key.Name)
		return ctrl.Result{}, true, r.releasePod(ctx, h.pod)
	}
	if err == nil && h.backlog.Status.Job == "" {
		h.backlog.Status.Depth = new(summary.Depth)
	}
	return ctrl.Result{}, false, nil
}

// kubeletDone reports whether the pod's containers are stopped for good
// and its volume is free: the kubelet reported a terminal phase, or the pod
// is held only by finalizers with every container terminated, or its node
// is fenced. A pod whose node stopped answering while it was deleted puts
// the Backlog in Fencing, polled every FencingRetry.
func (r *BacklogReconciler) kubeletDone(ctx context.Context, h *handoff) (bool, error) {
	pod := h.pod
	if podTerminal(pod) || (pod.DeletionTimestamp != nil && gracePeriodOver(pod) && allTerminated(pod)) {
		return true, nil
	}
	if pod.DeletionTimestamp == nil {
		h.setPhase(v1alpha1.BacklogAttached, ReasonAttached, "the sidecar of pod %s holds the queue", pod.Name)
		return false, r.ensurePodFinalizer(ctx, pod)
	}
	if left := time.Until(pod.DeletionTimestamp.Time); left > 0 {
		// In its grace period: the kubelet reports when it is done; if it
		// has not by the end, its node may be gone.
		h.setPhase(v1alpha1.BacklogAttached, ReasonAttached, "pod %s is stopping", pod.Name)
		h.requeue = left + time.Second
		return false, nil
	}
	node, fenced, err := r.nodeFenced(ctx, pod.Spec.NodeName)
	if err != nil || fenced {
		return fenced, err
	}
	if node != nil && nodeReady(node) {
		h.setPhase(v1alpha1.BacklogAttached, ReasonAttached,
			"pod %s is past its grace period on node %s, which is Ready: waiting for its kubelet to report", pod.Name, node.Name)
		h.requeue = r.fencingRetry()
		return false, nil
	}
	h.setPhase(v1alpha1.BacklogFencing, ReasonFencing,
		"node %s stopped answering while pod %s was deleted; no drain starts until the pod is fenced, so that two daemons never write one volume: delete the Node, or taint it %s=nodeshutdown:NoExecute",
		pod.Spec.NodeName, pod.Name, taintOutOfService)
	h.requeue = r.fencingRetry()
	return false, nil
}

// nodeFenced reads the node: fenced when it is gone or tainted
// out-of-service; node is nil when gone.
func (r *BacklogReconciler) nodeFenced(ctx context.Context, name string) (*corev1.Node, bool, error) {
	node, err := r.readNode(ctx, name)
	if err != nil || node == nil {
		return nil, err == nil, err
	}
	for _, t := range node.Spec.Taints {
		if t.Key == taintOutOfService {
			return node, true, nil
		}
	}
	return node, false, nil
}

// readNode reads a node from the API server (nodes are not cached: they
// are read only while a pod or a claim is stranded); nil when it is gone.
func (r *BacklogReconciler) readNode(ctx context.Context, name string) (*corev1.Node, error) {
	var node corev1.Node
	if err := r.APIReader.Get(ctx, client.ObjectKey{Name: name}, &node); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading node %s: %w", name, err)
	}
	return &node, nil
}

func (r *BacklogReconciler) fencingRetry() time.Duration {
	if r.FencingRetry > 0 {
		return r.FencingRetry
	}
	return defaultFencingRetry
}

func nodeReady(node *corev1.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podTerminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// gracePeriodOver: the kubelet asks for the final deletion with grace 0.
func gracePeriodOver(pod *corev1.Pod) bool {
	return pod.DeletionGracePeriodSeconds != nil && *pod.DeletionGracePeriodSeconds == 0
}

// allTerminated: every container the kubelet reported has stopped. A
// forced deletion sets grace 0 too, while containers may still run.
func allTerminated(pod *corev1.Pod) bool {
	statuses := append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
	for _, s := range statuses {
		if s.State.Terminated == nil {
			return false
		}
	}
	return len(statuses) > 0
}

// sidecarSummary is what the sidecar wrote when it last exited: its
// current state only, never lastState, which a sidecar restarted before
// the end left behind.
func sidecarSummary(pod *corev1.Pod) (termination.Summary, error) {
	for _, list := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for _, s := range list {
			if s.Name != v1alpha1.SidecarContainerName {
				continue
			}
			if s.State.Terminated == nil {
				return termination.Summary{}, termination.ErrNoSummary
			}
			return termination.Parse(s.State.Terminated.Message)
		}
	}
	return termination.Summary{}, termination.ErrNoSummary
}

func summaryText(s termination.Summary, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%d messages", s.Depth)
}

// skipHandoff honours sidequeue.io/skip-handoff at any time: the pod goes
// with its claim, unless a drain already holds it.
func (r *BacklogReconciler) skipHandoff(ctx context.Context, h *handoff) error {
	if h.backlog != nil && h.backlog.Status.Job == "" {
		if err := r.deleteBacklog(ctx, h); err != nil {
			return err
		}
	}
	if controllerutil.ContainsFinalizer(h.pod, v1alpha1.FinalizerBacklog) {
		record(r.Recorder, h.pod, nil, corev1.EventTypeNormal, EventHandoffSkipped, "Release",
			"%s is true: the pod's queue goes with it", v1alpha1.AnnotationSkipHandoff)
	}
	return r.releasePod(ctx, h.pod)
}

// ensurePodFinalizer holds a pod that was injected before the webhook set
// the finalizer. One being deleted cannot take it any more.
func (r *BacklogReconciler) ensurePodFinalizer(ctx context.Context, pod *corev1.Pod) error {
	if pod.DeletionTimestamp != nil || controllerutil.ContainsFinalizer(pod, v1alpha1.FinalizerBacklog) {
		return nil
	}
	return r.patchPodFinalizer(ctx, pod, controllerutil.AddFinalizer)
}

// releasePod removes the finalizer: the pod may go.
func (r *BacklogReconciler) releasePod(ctx context.Context, pod *corev1.Pod) error {
	if !controllerutil.ContainsFinalizer(pod, v1alpha1.FinalizerBacklog) {
		return nil
	}
	return r.patchPodFinalizer(ctx, pod, controllerutil.RemoveFinalizer)
}

func (r *BacklogReconciler) patchPodFinalizer(ctx context.Context, pod *corev1.Pod, change func(client.Object, string) bool) error {
	patched := pod.DeepCopy()
	change(patched, v1alpha1.FinalizerBacklog)
	err := r.Patch(ctx, patched, client.MergeFromWithOptions(pod, client.MergeFromWithOptimisticLock{}))
	if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("changing the finalizers of pod %s: %w", pod.Name, err)
	}
	*pod = *patched
	return nil
}

func (r *BacklogReconciler) namespaceTerminating(ctx context.Context, name string) (bool, error) {
	var ns corev1.Namespace
	if err := r.APIReader.Get(ctx, client.ObjectKey{Name: name}, &ns); err != nil {
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, fmt.Errorf("reading namespace %s: %w", name, err)
	}
	return ns.DeletionTimestamp != nil || ns.Status.Phase == corev1.NamespaceTerminating, nil
}
