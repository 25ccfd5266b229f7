package controllers

import (
	"context"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers/nsqapi"
)

// BacklogReconciler hands an injected pod's queue to a drain Job when the
// pod leaves messages behind (DESIGN.md, "Nothing is lost when a pod
// goes"). It works per sidecar volume claim: the key of every request is
// the claim's name, which is the Backlog's, and <pod>-sidequeue-data.
type BacklogReconciler struct {
	client.Client
	// APIReader reads what the cache does not hold (namespaces, nodes and
	// volumes, read only while a pod is going).
	APIReader client.Reader
	Recorder  events.EventRecorder
	// DrainJobDeadline is a drain Job's activeDeadlineSeconds.
	DrainJobDeadline time.Duration
	// RetryBackoff is the wait before the second drain Job after a failed
	// one, doubled for each later one up to maxRetryBackoff.
	RetryBackoff time.Duration
	// NSQ asks a drain Job's daemon how much it still holds, every
	// StatsInterval (DefaultStatsInterval when 0), on DrainHTTPPort
	// (v1alpha1.QueueHTTPPort when 0); nil leaves the depth as the sidecar
	// reported it.
	NSQ           nsqapi.Daemons
	StatsInterval time.Duration
	DrainHTTPPort int
	// FencingRetry is how often a pod whose node stopped answering is looked
	// at again (defaultFencingRetry when 0): node changes are not watched.
	FencingRetry time.Duration
}

// DefaultDrainJobDeadline is --drain-job-deadline's default.
const DefaultDrainJobDeadline = 24 * time.Hour

// DefaultRetryBackoff is the first wait after a failed drain Job.
const DefaultRetryBackoff = time.Minute

const maxRetryBackoff = time.Hour

const defaultFencingRetry = 30 * time.Second

// Reads of Backlogs, pods and claims come from the cache (list, watch);
// the current drain Job (get) and its pods (list) from the API server.
// +kubebuilder:rbac:groups=sidequeue.io,resources=backlogs,verbs=list;watch;create;delete
// +kubebuilder:rbac:groups=sidequeue.io,resources=backlogs/status,verbs=patch
// A drain Job's controller reference blocks its Backlog's foreground
// deletion, which needs update on the Backlog's finalizers.
// +kubebuilder:rbac:groups=sidequeue.io,resources=backlogs/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=pods,verbs=list;watch;patch
// Changing a claim's ownerReferences needs delete on it where the
// OwnerReferencesPermissionEnforcement admission plugin runs; the operator
// never deletes a claim.
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=list;watch;patch;delete
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get
// +kubebuilder:rbac:groups="",resources=persistentvolumes,verbs=get
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

func (r *BacklogReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, err error) {
	h, err := r.observe(ctx, req.NamespacedName)
	if err != nil {
		return ctrl.Result{}, err
	}
	defer func() {
		r.recordTransition(h)
		if uerr := h.writeStatus(ctx, r.Client); uerr != nil && err == nil {
			err = uerr
		}
	}()
	if h.successor != nil && h.successor.DeletionTimestamp != nil && h.successor.Spec.NodeName == "" {
		// Never scheduled, so never started: it has nothing to hand off.
		if err := r.releasePod(ctx, h.successor); err != nil {
			return ctrl.Result{}, err
		}
	}
	if h.pod != nil {
		if res, done, err := r.reconcilePod(ctx, h); done || err != nil {
			return res, err
		}
	}
	res, err := r.reconcileDrain(ctx, h)
	if err != nil {
		return res, err
	}
	// The pod may go once its backlog is in a Job's hands, or once nothing
	// can read it any more.
	if h.pod != nil && h.backlog != nil && (h.backlog.Status.Job != "" || h.backlog.Status.Phase == v1alpha1.BacklogLost) {
		return res, r.releasePod(ctx, h.pod)
	}
	return res, nil
}

func (r *BacklogReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).For(&v1alpha1.Backlog{}).Named("backlog").
		Owns(&batchv1.Job{}).
		Watches(&corev1.PersistentVolumeClaim{}, &handler.EnqueueRequestForObject{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(claimOfPod)).
		Complete(r)
}

// claimOfPod maps an injected pod to its sidecar volume claim, for pods
// whose log is a claim: an emptyDir goes with its pod.
func claimOfPod(_ context.Context, obj client.Object) []reconcile.Request {
	pod, ok := obj.(*corev1.Pod)
	if !ok || !hasClaimVolume(pod) {
		return nil
	}
	key := client.ObjectKey{Namespace: pod.Namespace, Name: v1alpha1.ClaimName(pod.Name)}
	return []reconcile.Request{{NamespacedName: key}}
}

func hasClaimVolume(pod *corev1.Pod) bool {
	for _, v := range pod.Spec.Volumes {
		if v.Name == v1alpha1.SidecarVolumeName && v.Ephemeral != nil {
			return true
		}
	}
	return false
}
