// Package controllers reconciles the sidequeue.io custom resources: Lookup,
// Topic and Channel, through the NSQ HTTP API of the daemons (package nsqapi).
package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers/nsqapi"
)

// Finalizer is put on Topics and Channels so that deletionPolicy Delete can
// remove them from the daemons before the object goes.
const Finalizer = "sidequeue.io/finalizer"

// DefaultStatsInterval is how often Topic and Channel status is refreshed.
const DefaultStatsInterval = 15 * time.Second

// missingRetry is how soon a resource whose dependency is missing is retried.
const missingRetry = 5 * time.Second

// Reasons of the Ready condition besides those in api/v1alpha1.
const (
	ReasonReady                  = "Ready"
	ReasonManagedNotSupportedYet = "ManagedNotSupportedYet"
	ReasonNoNodes                = "NoNodes"
	ReasonNSQError               = "NSQError"
)

// Event reasons.
const (
	EventCreated  = "Created"
	EventDeleted  = "Deleted"
	EventPaused   = "Paused"
	EventUnpaused = "Unpaused"
)

func setReady(conds *[]metav1.Condition, gen int64, ok bool, reason, msg string) {
	st := metav1.ConditionFalse
	if ok {
		st = metav1.ConditionTrue
	}
	meta.SetStatusCondition(conds, metav1.Condition{
		Type: v1alpha1.ConditionReady, Status: st, Reason: reason,
		Message: msg, ObservedGeneration: gen,
	})
}

// updateStatus writes obj's status when it differs from before's, as a
// merge patch of the whole status without resourceVersion: a reconcile that
// read a stale copy from the cache still writes what it observed.
func updateStatus(ctx context.Context, c client.Client, obj client.Object, before, after any) error {
	if obj.GetDeletionTimestamp() != nil && len(obj.GetFinalizers()) == 0 {
		return nil // about to vanish
	}
	if equality.Semantic.DeepEqual(before, after) {
		return nil
	}
	b, err := json.Marshal(map[string]any{"status": after})
	if err != nil {
		return fmt.Errorf("encoding status: %w", err)
	}
	if err := c.Status().Patch(ctx, obj, client.RawPatch(types.MergePatchType, b)); err != nil {
		return fmt.Errorf("updating status: %w", client.IgnoreNotFound(err))
	}
	return nil
}

// lookupAddrs returns the HTTP addresses of the Lookup named ref in ns, or
// nil, nil when the Lookup does not exist.
func lookupAddrs(ctx context.Context, c client.Client, ns, ref string) ([]string, error) {
	if ref == "" {
		ref = "default"
	}
	var l v1alpha1.Lookup
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref}, &l); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	if l.Spec.External != nil {
		return l.Spec.External.HTTPAddresses, nil
	}
	if l.Status.ConsumerAddresses != nil {
		return l.Status.ConsumerAddresses.HTTPAddresses, nil
	}
	return []string{}, nil
}

// nodes lists the queue daemons' HTTP addresses from the first lookup that
// answers /nodes.
func nodes(ctx context.Context, d nsqapi.Daemons, lookups []string) ([]string, error) {
	var lastErr error = fmt.Errorf("no lookup address")
	for _, a := range lookups {
		ps, err := d.Nodes(ctx, a)
		if err != nil {
			lastErr = err
			continue
		}
		out := make([]string, 0, len(ps))
		for _, p := range ps {
			out = append(out, p.HTTPAddr())
		}
		return out, nil
	}
	return nil, fmt.Errorf("listing nodes: %w", lastErr)
}

func ignoreNotFound(err error) error {
	if nsqapi.IsNotFound(err) {
		return nil
	}
	return err
}
