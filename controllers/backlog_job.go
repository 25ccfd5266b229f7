package controllers

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/sidecar/inject"
)

// drainBackoffLimit is how often a drain Job's pod may fail before the
// Job does; the Backlog then starts another Job after a backoff.
const drainBackoffLimit = 3

// ComponentDrain labels drain Jobs and their pods
// (app.kubernetes.io/component).
const ComponentDrain = "drain"

// reconcileDrain runs the drain of a backlog the pod left: one Job at a
// time, the next only after the last failed and a backoff passed; a
// completed Job releases the Backlog, and the claim with it.
func (r *BacklogReconciler) reconcileDrain(ctx context.Context, h *handoff) (ctrl.Result, error) {
	b := h.backlog
	if b == nil {
		return ctrl.Result{}, nil
	}
	if h.claim == nil {
		record(r.Recorder, b, nil, corev1.EventTypeWarning, EventBacklogLost, "Release",
			"claim %s was deleted: nothing is left to drain", b.Spec.ClaimName)
		return ctrl.Result{}, r.deleteBacklog(ctx, h)
	}
	if node, lost, err := r.claimLost(ctx, h.claim); err != nil || lost {
		if lost {
			h.setPhase(v1alpha1.BacklogLost, ReasonLost,
				"claim %s is bound to node %s, which no longer exists: its messages cannot be read (only a replicated volume would have kept them)", h.claim.Name, node)
		}
		return ctrl.Result{RequeueAfter: r.fencingRetry()}, err
	}
	job, err := r.currentJob(ctx, b)
	if err != nil {
		return ctrl.Result{}, err
	}
	switch {
	case job == nil:
		return ctrl.Result{}, r.startDrain(ctx, h)
	case jobCondition(job, batchv1.JobComplete) != nil:
		record(r.Recorder, b, job, corev1.EventTypeNormal, EventDrained, "Release",
			"drain Job %s consumed the backlog: the claim goes", job.Name)
		return ctrl.Result{}, r.deleteBacklog(ctx, h)
	case jobCondition(job, batchv1.JobFailed) != nil:
		return r.retryDrain(ctx, h, job)
	}
	if b.Status.Phase != v1alpha1.BacklogDraining {
		h.setPhase(v1alpha1.BacklogDraining, ReasonDraining, "drain Job %s serves the backlog to consumers", job.Name)
	}
	return r.refreshDepth(ctx, h, job), nil
}

// currentJob is the Job the status names, nil when there is none. It is
// read from the API server, not the cache, which may not have seen a Job
// just created: a second drain must never start beside a first.
func (r *BacklogReconciler) currentJob(ctx context.Context, b *v1alpha1.Backlog) (*batchv1.Job, error) {
	if b.Status.Job == "" {
		return nil, nil
	}
	var job batchv1.Job
	key := client.ObjectKey{Namespace: b.Namespace, Name: b.Status.Job}
	err := r.APIReader.Get(ctx, key, &job)
	if apierrors.IsNotFound(err) || (err == nil && !isOwnedBy(&job, b.UID)) {
		return nil, nil // deleted by someone: start another
	}
	if err != nil {
		return nil, fmt.Errorf("reading drain job %s: %w", key.Name, err)
	}
	return &job, nil
}

// startDrain creates the next drain Job. Its name is fixed by the attempt
// number, so a reconcile that repeats one, after a restart or on a stale
// cache, finds it there (AlreadyExists) instead of starting a second.
func (r *BacklogReconciler) startDrain(ctx context.Context, h *handoff) error {
	b := h.backlog
	attempt := b.Status.Attempts + 1
	job, err := r.drainJob(b, attempt)
	if err != nil {
		return err
	}
	if err := r.Create(ctx, job); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating drain job: %w", err)
	}
	b.Status.Attempts, b.Status.Job = attempt, job.Name
	h.setPhase(v1alpha1.BacklogDraining, ReasonDraining, "pod %s left %s behind: drain Job %s serves them to consumers",
		b.Status.Pod, depthText(b.Status.Depth), job.Name)
	return nil
}

// retryDrain waits out the backoff after a failed Job, then starts the
// next; the claim is kept all along.
func (r *BacklogReconciler) retryDrain(ctx context.Context, h *handoff, job *batchv1.Job) (ctrl.Result, error) {
	b := h.backlog
	failed := jobCondition(job, batchv1.JobFailed)
	wait := time.Until(failed.LastTransitionTime.Add(r.backoff(b.Status.Attempts)))
	if wait > 0 {
		h.setPhase(v1alpha1.BacklogFailed, ReasonDrainFailed,
			"drain Job %s failed (%s: %s); the claim is kept and another Job starts in %s",
			job.Name, failed.Reason, failed.Message, wait.Round(time.Second))
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	if b.Status.Phase != v1alpha1.BacklogFailed {
		// Seen only once its backoff was over (the operator was busy or
		// down): the phase goes from Draining to Draining, which records
		// nothing, so the failure is told here.
		record(r.Recorder, b, nil, corev1.EventTypeWarning, string(v1alpha1.BacklogFailed), "Handoff",
			"drain Job %s failed (%s: %s); the claim is kept and another Job starts now", job.Name, failed.Reason, failed.Message)
	}
	return ctrl.Result{}, r.startDrain(ctx, h)
}

func (r *BacklogReconciler) backoff(attempts int32) time.Duration {
	d := r.RetryBackoff
	if d <= 0 {
		d = DefaultRetryBackoff
	}
	for i := int32(1); i < attempts && d < maxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, maxRetryBackoff)
}

// drainJob runs queued --drain-only on the claim, as the sidecar ran. It
// has no ttlSecondsAfterFinished: the TTL controller deletes in the
// foreground, and the Backlog, its owner, decides when it goes.
func (r *BacklogReconciler) drainJob(b *v1alpha1.Backlog, attempt int32) (*batchv1.Job, error) {
	deadline := r.DrainJobDeadline
	if deadline <= 0 {
		deadline = DefaultDrainJobDeadline
	}
	labels := map[string]string{managedByLabel: FieldOwner, componentLabel: ComponentDrain}
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Namespace: b.Namespace, Name: drainJobName(b.Name, attempt), Labels: labels},
		Spec: batchv1.JobSpec{
			BackoffLimit:          new(int32(drainBackoffLimit)),
			ActiveDeadlineSeconds: new(int64(deadline / time.Second)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       inject.DrainPodSpec(b.Spec.ClaimName, b.Spec.Image, b.Spec.Args, b.Spec.Resources),
			},
		},
	}
	if err := controllerutil.SetControllerReference(b, job, r.Scheme()); err != nil {
		return nil, fmt.Errorf("owning drain job: %w", err)
	}
	return job, nil
}

// drainJobName is <backlog>-drain-<attempt>, shortened with a hash of the
// Backlog's name to the 63 characters a Job's name may have (its pods are
// labelled with it).
func drainJobName(backlog string, attempt int32) string {
	suffix := fmt.Sprintf("-drain-%d", attempt)
	const max = 63
	if len(backlog)+len(suffix) <= max {
		return backlog + suffix
	}
	h := fnv.New32a()
	h.Write([]byte(backlog))
	short := fmt.Sprintf("-%08x", h.Sum32())
	return backlog[:max-len(suffix)-len(short)] + short + suffix
}

// claimLost reports whether the claim is bound to a node-local volume on a
// node that no longer exists.
func (r *BacklogReconciler) claimLost(ctx context.Context, claim *corev1.PersistentVolumeClaim) (string, bool, error) {
	if claim.Spec.VolumeName == "" {
		return "", false, nil
	}
	var pv corev1.PersistentVolume
	if err := r.APIReader.Get(ctx, client.ObjectKey{Name: claim.Spec.VolumeName}, &pv); err != nil {
		return "", false, client.IgnoreNotFound(err)
	}
	node := volumeNode(&pv)
	if node == "" {
		return "", false, nil
	}
	n, err := r.readNode(ctx, node)
	return node, err == nil && n == nil, err
}

// volumeNode is the one node a volume's node affinity pins it to, "" when
// it is not pinned to one node by name.
func volumeNode(pv *corev1.PersistentVolume) string {
	if pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
		return ""
	}
	terms := pv.Spec.NodeAffinity.Required.NodeSelectorTerms
	if len(terms) != 1 {
		return ""
	}
	for _, e := range terms[0].MatchExpressions {
		if e.Key == corev1.LabelHostname && e.Operator == corev1.NodeSelectorOpIn && len(e.Values) == 1 {
			return e.Values[0]
		}
	}
	return ""
}

func jobCondition(job *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i, c := range job.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return &job.Status.Conditions[i]
		}
	}
	return nil
}

func depthText(depth *int64) string {
	if depth == nil {
		return "an unknown number of messages"
	}
	return fmt.Sprintf("%d messages", *depth)
}
