package controllers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers/nsqapi"
)

// LookupReconciler reconciles Lookups. Only spec.external is handled so far:
// managed lookups (Deployment, Services, PDB) are reported as not supported yet.
type LookupReconciler struct {
	client.Client
	NSQ nsqapi.Daemons
	// Ping reports whether a lookup HTTP address answers /ping; nil uses HTTP.
	Ping func(ctx context.Context, addr string) error
	// Interval is how often the addresses are probed again.
	Interval time.Duration
}

// +kubebuilder:rbac:groups=sidequeue.io,resources=lookups,verbs=get;list;watch
// +kubebuilder:rbac:groups=sidequeue.io,resources=lookups/status,verbs=get;update;patch

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
	if !l.IsExternal() {
		setReady(&l.Status.Conditions, l.Generation, false, ReasonManagedNotSupportedYet,
			"managed lookups are not reconciled yet; use spec.external")
		return ctrl.Result{}, nil
	}
	if err := r.reconcileExternal(ctx, &l); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: r.interval()}, nil
}

func (r *LookupReconciler) interval() time.Duration {
	if r.Interval > 0 {
		return r.Interval
	}
	return DefaultStatsInterval
}

func (r *LookupReconciler) reconcileExternal(ctx context.Context, l *v1alpha1.Lookup) error {
	ext := l.Spec.External
	l.Status.ConsumerAddresses = &v1alpha1.LookupAddresses{TCPAddresses: ext.TCPAddresses, HTTPAddresses: ext.HTTPAddresses}
	l.Status.DaemonAddresses = &v1alpha1.LookupAddresses{TCPAddresses: ext.TCPAddresses, HTTPAddresses: ext.HTTPAddresses}
	var up int32
	var failures []string
	producers := int32(-1)
	for _, a := range ext.HTTPAddresses {
		if err := r.ping(ctx, a); err != nil {
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
		return nil
	}
	setReady(&l.Status.Conditions, l.Generation, true, ReasonReady,
		fmt.Sprintf("%d of %d lookup addresses answer", up, len(ext.HTTPAddresses)))
	return nil
}

func (r *LookupReconciler) ping(ctx context.Context, addr string) error {
	if r.Ping != nil {
		return r.Ping(ctx, addr)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/ping", nil)
	if err != nil {
		return fmt.Errorf("%s/ping: %w", addr, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s/ping: %w", addr, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s/ping: status %d", addr, resp.StatusCode)
	}
	return nil
}

// SetupWithManager registers the reconciler with mgr.
func (r *LookupReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).For(&v1alpha1.Lookup{}).Named("lookup").Complete(r)
}
