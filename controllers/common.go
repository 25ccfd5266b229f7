// Package controllers reconciles the sidequeue.io custom resources: Lookup,
// Topic and Channel, through the NSQ HTTP API of the daemons (package nsqapi).
package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers/eventlog"
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
	ReasonReady = "Ready"
	// ReasonReplicasNotReady: no lookupd pod of a managed Lookup is ready.
	ReasonReplicasNotReady = "ReplicasNotReady"
	// ReasonLookupNotReady: the Lookup exists but lists no lookupd to use.
	ReasonLookupNotReady = "LookupNotReady"
	// ReasonApplyFailed: an object of a managed Lookup could not be applied.
	ReasonApplyFailed = "ApplyFailed"
	ReasonNSQError    = "NSQError"
)

// Event reasons.
const (
	EventCreated = "Created"
	EventUpdated = "Updated"
	EventDeleted = "Deleted"
	// EventNotDeleted: deletionPolicy Delete could not reach the daemons.
	EventNotDeleted = "NotDeleted"
	EventPaused     = "Paused"
	EventUnpaused   = "Unpaused"
)

// ownSpecChanges filters the events of a reconciler's own kind to creation,
// spec changes and deletion (which bumps the generation): its status writes
// would otherwise re-run it at once, polling the daemons in a loop for as
// long as a depth moves. Status is refreshed every stats interval instead.
var ownSpecChanges = builder.WithPredicates(predicate.GenerationChangedPredicate{})

// addFinalizer puts Finalizer on obj, so that deletionPolicy Delete can act
// before obj goes.
func addFinalizer(ctx context.Context, c client.Client, obj client.Object) error {
	if err := patchFinalizers(ctx, c, obj, controllerutil.AddFinalizer); err != nil {
		return fmt.Errorf("adding finalizer: %w", err)
	}
	return nil
}

// finalize lets obj go: it runs cleanup first when policy is Delete, and
// keeps the finalizer when cleanup fails, so that it is tried again.
func finalize(ctx context.Context, c client.Client, obj client.Object, policy v1alpha1.DeletionPolicy, cleanup func(context.Context) error) error {
	if !controllerutil.ContainsFinalizer(obj, Finalizer) {
		return nil
	}
	if policy == v1alpha1.DeletionPolicyDelete {
		if err := cleanup(ctx); err != nil {
			return err
		}
	}
	if err := patchFinalizers(ctx, c, obj, controllerutil.RemoveFinalizer); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("removing finalizer: %w", err)
	}
	return nil
}

// patchFinalizers changes obj's finalizers with a patch of them alone,
// checked against obj's resourceVersion; obj's status, being reconciled,
// stays as it is in memory (an Update would overwrite it with the stored one).
func patchFinalizers(ctx context.Context, c client.Client, obj client.Object, change func(client.Object, string) bool) error {
	changed := obj.DeepCopyObject().(client.Object)
	if !change(changed, Finalizer) {
		return nil
	}
	if err := c.Patch(ctx, changed, client.MergeFromWithOptions(obj, client.MergeFromWithOptimisticLock{})); err != nil {
		return err
	}
	obj.SetFinalizers(changed.GetFinalizers())
	obj.SetResourceVersion(changed.GetResourceVersion())
	return nil
}

// record logs an action of the manager and emits its event about
// regarding when there is a recorder (tests of single steps run without
// one).
func record(rec events.EventRecorder, regarding, related runtime.Object, typ, reason, action, note string, args ...any) {
	eventlog.Log(regarding, typ, reason, note, args...)
	if rec != nil {
		rec.Eventf(regarding, related, typ, reason, action, note, args...)
	}
}

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

// lookupAddrs returns the HTTP addresses of every replica of the Lookup named
// ref in ns, or nil, nil when the Lookup does not exist.
func lookupAddrs(ctx context.Context, c client.Client, ns, ref string) ([]string, error) {
	if ref == "" {
		ref = v1alpha1.DefaultLookupName
	}
	var l v1alpha1.Lookup
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: ref}, &l); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	if l.Spec.External != nil {
		return l.Spec.External.HTTPAddresses, nil
	}
	return replicaAddrs(ctx, c, &l)
}

// replicaAddrs lists the lookupd pods of a managed Lookup from its headless
// Service's EndpointSlices: a topic is registered in each replica, since
// replicas share nothing, and the ClusterIP Service would reach only one.
func replicaAddrs(ctx context.Context, c client.Client, l *v1alpha1.Lookup) ([]string, error) {
	var slices discoveryv1.EndpointSliceList
	if err := c.List(ctx, &slices, client.InNamespace(l.Namespace),
		client.MatchingLabels{discoveryv1.LabelServiceName: headlessName(l)}); err != nil {
		return nil, fmt.Errorf("listing endpoints of %s: %w", headlessName(l), err)
	}
	addrs := []string{}
	for _, s := range slices.Items {
		port := httpPort(s.Ports)
		for _, e := range s.Endpoints {
			if (e.Conditions.Serving != nil && !*e.Conditions.Serving) ||
				(e.Conditions.Terminating != nil && *e.Conditions.Terminating) {
				continue
			}
			for _, ip := range e.Addresses {
				addrs = append(addrs, net.JoinHostPort(ip, strconv.Itoa(int(port))))
			}
		}
	}
	return addrs, nil
}

func httpPort(ports []discoveryv1.EndpointPort) int32 {
	for _, p := range ports {
		if p.Name != nil && *p.Name == "http" && p.Port != nil {
			return *p.Port
		}
	}
	return LookupdHTTPPort
}

func ignoreNotFound(err error) error {
	if nsqapi.IsNotFound(err) {
		return nil
	}
	return err
}
