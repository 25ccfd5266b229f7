package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// handoff is what one reconcile of a sidecar volume claim sees: the claim,
// the pod that wrote it, and its Backlog, each nil when absent.
type handoff struct {
	key     client.ObjectKey
	backlog *v1alpha1.Backlog
	before  v1alpha1.BacklogStatus // backlog's status as read, to write only changes
	deleted bool                   // the Backlog was deleted by this reconcile
	claim   *corev1.PersistentVolumeClaim
	pod     *corev1.Pod
	// successor is a later pod of the same name (a StatefulSet's), which
	// cannot start while its predecessor's claim is kept.
	successor *corev1.Pod
	requeue   time.Duration // when to look again, for what no watch reports
}

// Reasons of a Backlog's Ready condition, and its events.
const (
	ReasonAttached      = "Attached"
	ReasonFencing       = "Fencing"
	ReasonDraining      = "Draining"
	ReasonDrainFailed   = "DrainFailed"
	ReasonLost          = "Lost"
	EventDrained        = "Drained"
	EventHandoffSkipped = "HandoffSkipped"
	EventBacklogLost    = "BacklogLost"
)

func (r *BacklogReconciler) observe(ctx context.Context, key client.ObjectKey) (*handoff, error) {
	h := &handoff{key: key}
	var b v1alpha1.Backlog
	if err := r.Get(ctx, key, &b); err == nil {
		h.backlog, h.before = &b, *b.Status.DeepCopy()
	} else if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("reading backlog: %w", err)
	}
	var claim corev1.PersistentVolumeClaim
	if err := r.Get(ctx, key, &claim); err == nil {
		h.claim = &claim
	} else if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("reading claim: %w", err)
	}
	podName := v1alpha1.PodOfClaim(key.Name)
	if podName == "" {
		return h, nil
	}
	var pod corev1.Pod
	if err := r.Get(ctx, client.ObjectKey{Namespace: key.Namespace, Name: podName}, &pod); err == nil {
		h.pod = &pod
	} else if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("reading pod: %w", err)
	}
	h.dropStrangers()
	return h, nil
}

// dropStrangers forgets a claim that is not the pod's sidecar volume, and a
// pod that is not the one that wrote the claim (a StatefulSet's next pod
// of the same name, which cannot start while its predecessor's claim is
// kept).
func (h *handoff) dropStrangers() {
	writer := h.writerUID()
	if h.pod != nil && writer != "" && h.pod.UID != writer {
		h.pod, h.successor = nil, h.pod
	}
	if h.claim != nil && h.backlog == nil && h.pod == nil {
		h.claim = nil // a dangling claim the garbage collector will take
	}
}

// writerUID is the UID of the pod that wrote the claim: recorded in the
// Backlog, else the claim's controller.
func (h *handoff) writerUID() types.UID {
	if h.backlog != nil {
		return h.backlog.Spec.PodUID
	}
	if h.claim != nil {
		if ref := metav1.GetControllerOf(h.claim); ref != nil && ref.Kind == "Pod" {
			return ref.UID
		}
	}
	return ""
}

// setPhase records where the handoff is, with the Ready condition saying
// why.
func (h *handoff) setPhase(phase v1alpha1.BacklogPhase, reason, msg string, args ...any) {
	if h.backlog == nil {
		return
	}
	h.backlog.Status.Phase = phase
	ok := phase == v1alpha1.BacklogAttached || phase == v1alpha1.BacklogDraining
	setReady(&h.backlog.Status.Conditions, h.backlog.Generation, ok, reason, fmt.Sprintf(msg, args...))
}

// recordTransition tells of every change of phase, on the Backlog, with
// the pod as related object, in the words of the Ready condition.
func (r *BacklogReconciler) recordTransition(h *handoff) {
	b := h.backlog
	if b == nil || h.deleted || b.Status.Phase == h.before.Phase {
		return
	}
	c := meta.FindStatusCondition(b.Status.Conditions, v1alpha1.ConditionReady)
	if c == nil {
		return
	}
	typ := corev1.EventTypeNormal
	if c.Status != metav1.ConditionTrue {
		typ = corev1.EventTypeWarning
	}
	var related runtime.Object // a nil *Pod in the interface would not read as none
	if h.pod != nil {
		related = h.pod
	}
	record(r.Recorder, b, related, typ, string(b.Status.Phase), "Handoff", "%s", c.Message)
}

func (h *handoff) writeStatus(ctx context.Context, c client.Client) error {
	if h.backlog == nil || h.deleted {
		return nil
	}
	h.backlog.Status.ObservedGeneration = h.backlog.Generation
	return updateStatus(ctx, c, h.backlog, &h.before, &h.backlog.Status)
}

// ensureBacklog creates the pod's Backlog, recording how its sidecar runs,
// and makes it an owner of the claim, so that the garbage collector keeps
// the claim however the pod goes. The pod stays the claim's controller:
// the kubelet, the scheduler and pvc-protection require it.
func (r *BacklogReconciler) ensureBacklog(ctx context.Context, h *handoff) error {
	if h.backlog == nil {
		if err := r.createBacklog(ctx, h); err != nil {
			return err
		}
	}
	if h.claim == nil || isOwnedBy(h.claim, h.backlog.UID) {
		return nil
	}
	patched := h.claim.DeepCopy()
	patched.OwnerReferences = append(patched.OwnerReferences, metav1.OwnerReference{
		APIVersion: v1alpha1.GroupVersion.String(), Kind: "Backlog",
		Name: h.backlog.Name, UID: h.backlog.UID,
	})
	if err := r.Patch(ctx, patched, client.MergeFromWithOptions(h.claim, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("making backlog an owner of claim %s: %w", h.claim.Name, err)
	}
	h.claim = patched
	return nil
}

func (r *BacklogReconciler) createBacklog(ctx context.Context, h *handoff) error {
	if h.claim == nil || h.pod == nil {
		return nil
	}
	sidecar := sidecarOf(h.pod)
	if sidecar == nil {
		return fmt.Errorf("pod %s has a sidecar volume but no %s container", h.pod.Name, v1alpha1.SidecarContainerName)
	}
	b := &v1alpha1.Backlog{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.key.Namespace, Name: h.key.Name,
			Labels: map[string]string{managedByLabel: FieldOwner}},
		Spec: v1alpha1.BacklogSpec{ClaimName: h.claim.Name, PodUID: h.pod.UID, Image: sidecar.Image, Args: sidecar.Args},
	}
	if len(sidecar.Resources.Requests)+len(sidecar.Resources.Limits) > 0 {
		b.Spec.Resources = sidecar.Resources.DeepCopy()
	}
	err := r.Create(ctx, b)
	if apierrors.IsAlreadyExists(err) { // the cache had not seen it yet
		err = r.Get(ctx, h.key, b)
	}
	if err != nil {
		return fmt.Errorf("creating backlog: %w", err)
	}
	h.backlog = b
	b.Status.Pod, b.Status.Node = h.pod.Name, h.pod.Spec.NodeName
	h.setPhase(v1alpha1.BacklogAttached, ReasonAttached, "the sidecar of pod %s holds the queue", h.pod.Name)
	return nil
}

// deleteBacklog lets the claim go: without its Backlog, the claim's only
// owner is the pod, and the garbage collector deletes it with the pod.
func (r *BacklogReconciler) deleteBacklog(ctx context.Context, h *handoff) error {
	if h.backlog == nil {
		return nil
	}
	uid := h.backlog.UID
	err := r.Delete(ctx, h.backlog, client.Preconditions{UID: &uid}, client.PropagationPolicy(metav1.DeletePropagationBackground))
	if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting backlog: %w", err)
	}
	h.deleted = true
	return nil
}

func isOwnedBy(obj metav1.Object, uid types.UID) bool {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.UID == uid {
			return true
		}
	}
	return false
}

func sidecarOf(pod *corev1.Pod) *corev1.Container {
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			if list[i].Name == v1alpha1.SidecarContainerName {
				return &list[i]
			}
		}
	}
	return nil
}
