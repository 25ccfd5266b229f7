package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers/nsqapi"
)

// LookupReconciler reconciles Lookups. A managed Lookup gets a Deployment of
// lookupd, a ClusterIP and a headless Service and a PodDisruptionBudget, all
// owned by it and kept as declared; an external one is only probed.
type LookupReconciler struct {
	client.Client
	// APIReader reads uncached, to tell what an apply changed; nil uses Client.
	APIReader client.Reader
	NSQ       nsqapi.Daemons
	Recorder  events.EventRecorder
	// Image runs lookupd when a Lookup names none.
	Image string
	// Interval is how often the addresses are probed again.
	Interval time.Duration
}

// Least privilege, as test/install checks against the audit log: reads
// go through the cache (list, watch) but for the APIReader's get of what
// is applied; writes are server-side applies (patch, and create when the
// object is new) and status merge patches; nothing is updated.
// +kubebuilder:rbac:groups=sidequeue.io,resources=lookups,verbs=get;list;watch
// +kubebuilder:rbac:groups=sidequeue.io,resources=lookups/status,verbs=patch
// Owner references with blockOwnerDeletion need update on the owner's
// finalizers where OwnerReferencesPermissionEnforcement is on (OpenShift).
// +kubebuilder:rbac:groups=sidequeue.io,resources=lookups/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=list;watch

func (r *LookupReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, err error) {
	var l v1alpha1.Lookup
	if err := r.Get(ctx, req.NamespacedName, &l); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := l.Status.DeepCopy()
	defer func() {
		if uerr := updateStatus(ctx, r.Client, &l, before, &l.Status); uerr != nil && err == nil {
			err = uerr
		}
	}()
	l.Status.ObservedGeneration = l.Generation
	if l.IsExternal() {
		if err := r.deleteManaged(ctx, &l); err != nil {
			return ctrl.Result{}, err
		}
		r.reconcileExternal(ctx, &l)
		return ctrl.Result{RequeueAfter: r.interval()}, nil
	}
	for _, step := range []func(context.Context, *v1alpha1.Lookup) error{
		r.reconcileDeployment, r.reconcileServices, r.reconcilePDB,
	} {
		if err := step(ctx, &l); err != nil {
			setReady(&l.Status.Conditions, l.Generation, false, ReasonApplyFailed, err.Error())
			return ctrl.Result{}, err
		}
	}
	r.reconcileManagedStatus(ctx, &l)
	return ctrl.Result{RequeueAfter: r.interval()}, nil
}

// reconcileManagedStatus sets Ready from the Deployment's ready replicas and
// counts producers through the consumers' Service, which answers only in
// cluster: out of cluster the count stays as it was.
func (r *LookupReconciler) reconcileManagedStatus(ctx context.Context, l *v1alpha1.Lookup) {
	want := replicas(l)
	if l.Status.ReadyReplicas == 0 {
		setReady(&l.Status.Conditions, l.Generation, false, ReasonReplicasNotReady,
			fmt.Sprintf("0 of %d lookupd replicas ready", want))
		return
	}
	if ps, err := r.NSQ.Nodes(ctx, l.Status.ConsumerAddresses.HTTPAddresses[0]); err == nil {
		l.Status.Producers = int32(len(ps))
	}
	setReady(&l.Status.Conditions, l.Generation, true, ReasonReady,
		fmt.Sprintf("%d of %d lookupd replicas ready", l.Status.ReadyReplicas, want))
}

func (r *LookupReconciler) interval() time.Duration {
	if r.Interval > 0 {
		return r.Interval
	}
	return DefaultStatsInterval
}

func (r *LookupReconciler) reconcileExternal(ctx context.Context, l *v1alpha1.Lookup) {
	ext := l.Spec.External
	l.Status.ConsumerAddresses = &v1alpha1.LookupAddresses{TCPAddresses: ext.TCPAddresses, HTTPAddresses: ext.HTTPAddresses}
	l.Status.DaemonAddresses = &v1alpha1.LookupAddresses{TCPAddresses: ext.TCPAddresses, HTTPAddresses: ext.HTTPAddresses}
	var up int32
	var failures []string
	producers := int32(-1)
	for _, a := range ext.HTTPAddresses {
		if err := r.NSQ.Ping(ctx, a); err != nil {
			failures = append(failures, err.Error())
			continue
		}
		up++
		if producers < 0 {
			if ps, err := r.NSQ.Nodes(ctx, a); err == nil {
				producers = int32(len(ps))
			}
		}
	}
	l.Status.ReadyReplicas = up
	l.Status.Producers = max(producers, 0)
	if up == 0 {
		setReady(&l.Status.Conditions, l.Generation, false, v1alpha1.ReasonUnreachable,
			"no lookup address answers /ping: "+strings.Join(failures, "; "))
		return
	}
	setReady(&l.Status.Conditions, l.Generation, true, ReasonReady,
		fmt.Sprintf("%d of %d lookup addresses answer", up, len(ext.HTTPAddresses)))
}

// SetupWithManager registers the reconciler with mgr.
func (r *LookupReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).For(&v1alpha1.Lookup{}, ownSpecChanges).Named("lookup").
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Complete(r)
}
