package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers/nsqapi"
)

// ChannelReconciler creates Channels on every queue daemon of their Topic's
// Lookup, before any consumer connects, and registers them in the lookups.
type ChannelReconciler struct {
	client.Client
	NSQ      nsqapi.Daemons
	Recorder events.EventRecorder
	// StatsInterval is how often status is refreshed from the daemons.
	StatsInterval time.Duration
}

// Reads through the cache; the finalizer and status are merge patches.
// +kubebuilder:rbac:groups=sidequeue.io,resources=channels,verbs=list;watch;patch
// +kubebuilder:rbac:groups=sidequeue.io,resources=channels/status,verbs=patch

func (r *ChannelReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, err error) {
	var c v1alpha1.Channel
	if err := r.Get(ctx, req.NamespacedName, &c); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := c.Status.DeepCopy()
	defer func() {
		if uerr := updateStatus(ctx, r.Client, &c, before, &c.Status); uerr != nil && err == nil {
			err = uerr
		}
	}()
	c.Status.ObservedGeneration = c.Generation
	if !c.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, finalize(ctx, r.Client, &c, c.Spec.DeletionPolicy, func(ctx context.Context) error {
			return r.deleteFromNSQ(ctx, &c)
		})
	}
	if err := addFinalizer(ctx, r.Client, &c); err != nil {
		return ctrl.Result{}, err
	}
	topic, lookups, err := r.reconcileLookups(ctx, &c)
	if errors.Is(err, errMissing) {
		return ctrl.Result{RequeueAfter: missingRetry}, nil
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	states, err := r.reconcileNodes(ctx, &c, topic, lookups)
	if err != nil {
		return ctrl.Result{}, err
	}
	r.reconcileStats(&c, states)
	return ctrl.Result{RequeueAfter: statsInterval(r.StatsInterval)}, nil
}

// resolve returns the Channel's Topic and its Lookup's addresses; nil
// results mean the Topic or the Lookup does not exist.
func (r *ChannelReconciler) resolve(ctx context.Context, c *v1alpha1.Channel) (*v1alpha1.Topic, []string, error) {
	var t v1alpha1.Topic
	if err := r.Get(ctx, types.NamespacedName{Namespace: c.Namespace, Name: c.Spec.TopicRef.Name}, &t); err != nil {
		return nil, nil, client.IgnoreNotFound(err)
	}
	addrs, err := lookupAddrs(ctx, r.Client, t.Namespace, t.Spec.LookupRef.Name)
	return &t, addrs, err
}

// reconcileLookups registers the topic and the channel in every lookup.
func (r *ChannelReconciler) reconcileLookups(ctx context.Context, c *v1alpha1.Channel) (*v1alpha1.Topic, []string, error) {
	t, addrs, err := r.resolve(ctx, c)
	if err != nil {
		return nil, nil, fmt.Errorf("resolving topic and lookup: %w", err)
	}
	if t == nil {
		setReady(&c.Status.Conditions, c.Generation, false, v1alpha1.ReasonTopicNotFound,
			fmt.Sprintf("Topic %q not found", c.Spec.TopicRef.Name))
		return nil, nil, errMissing
	}
	// A Topic being deleted is gone for its Channels: making the channel
	// would create the topic again on the daemons it is being deleted from.
	if !t.DeletionTimestamp.IsZero() {
		setReady(&c.Status.Conditions, c.Generation, false, v1alpha1.ReasonTopicNotFound,
			fmt.Sprintf("Topic %q is being deleted", t.Name))
		return nil, nil, errMissing
	}
	if addrs == nil {
		setReady(&c.Status.Conditions, c.Generation, false, v1alpha1.ReasonLookupNotFound,
			fmt.Sprintf("Lookup %q of Topic %q not found", lookupName(t), t.Name))
		return nil, nil, errMissing
	}
	if len(addrs) == 0 {
		setReady(&c.Status.Conditions, c.Generation, false, ReasonLookupNotReady, noReplicaMessage(lookupName(t)))
		return nil, nil, errMissing
	}
	addrs, err = registerEverywhere(addrs, func(a string) error {
		if err := r.NSQ.LookupTopic(ctx, a, t.NSQName(), true); err != nil {
			return err
		}
		return r.NSQ.LookupChannel(ctx, a, t.NSQName(), c.NSQName(), true)
	})
	if err != nil {
		setReady(&c.Status.Conditions, c.Generation, false, failReason(err), err.Error())
		return nil, nil, fmt.Errorf("registering channel in lookup: %w", err)
	}
	return t, addrs, nil
}

// reconcileNodes creates topic and channel on every daemon and applies
// pause; a daemon that fails does not hold up the others (see the Topic's).
func (r *ChannelReconciler) reconcileNodes(ctx context.Context, c *v1alpha1.Channel, t *v1alpha1.Topic, lookups []string) ([]nodeState, error) {
	addrs, err := nodes(ctx, r.NSQ, lookups)
	if err != nil {
		setReady(&c.Status.Conditions, c.Generation, false, failReason(err), err.Error())
		return nil, err
	}
	done := &nodeEvents{}
	states := askNodes(addrs, func(n string) (*nsqapi.TopicStats, error) { return r.reconcileNode(ctx, c, t, n, done) })
	done.emit(r.Recorder, c, "channel "+t.NSQName()+"/"+c.NSQName(), channelHeld(states, c.NSQName()), len(states))
	return states, nil
}

// reconcileNode makes the channel on daemon n as declared and returns the
// topic's stats as they are afterwards.
func (r *ChannelReconciler) reconcileNode(ctx context.Context, c *v1alpha1.Channel, t *v1alpha1.Topic, n string, done *nodeEvents) (*nsqapi.TopicStats, error) {
	st, err := r.NSQ.Stats(ctx, n, t.NSQName())
	if err != nil {
		return nil, fmt.Errorf("topic stats: %w", err)
	}
	// The topic first, so that the channel exists before consumers.
	if st == nil {
		if err := r.NSQ.Topic(ctx, n, t.NSQName(), nsqapi.Create); err != nil {
			return nil, fmt.Errorf("creating topic: %w", err)
		}
	}
	cs := findChannel(st, c.NSQName())
	if cs == nil {
		if err := r.NSQ.Channel(ctx, n, t.NSQName(), c.NSQName(), nsqapi.Create); err != nil {
			return nil, fmt.Errorf("creating channel: %w", err)
		}
		done.add(EventCreated, n)
	}
	if (cs == nil && c.Spec.Paused) || (cs != nil && cs.Paused != c.Spec.Paused) {
		action := pauseAction(c.Spec.Paused)
		if err := r.NSQ.Channel(ctx, n, t.NSQName(), c.NSQName(), action); err != nil {
			return nil, fmt.Errorf("%s channel: %w", action, err)
		}
		done.add(pauseEvent(c.Spec.Paused), n)
	}
	if cs == nil || cs.Paused != c.Spec.Paused {
		return r.NSQ.Stats(ctx, n, t.NSQName())
	}
	return st, nil
}

func findChannel(st *nsqapi.TopicStats, name string) *nsqapi.ChannelStats {
	if st == nil {
		return nil
	}
	for i := range st.Channels {
		if st.Channels[i].ChannelName == name {
			return &st.Channels[i]
		}
	}
	return nil
}

// reconcileStats sums what the daemons reported of the channel into status.
func (r *ChannelReconciler) reconcileStats(c *v1alpha1.Channel, states []nodeState) {
	s := v1alpha1.ChannelStatus{ObservedGeneration: c.Generation, Conditions: c.Status.Conditions}
	held := channelHeld(states, c.NSQName())
	paused := true
	for _, n := range states {
		cs := findChannel(n.stats, c.NSQName())
		if n.err != nil || cs == nil {
			continue // not held: see channelHeld
		}
		s.Depth += cs.Depth
		s.InFlight += cs.InFlightCount
		s.Deferred += cs.DeferredCount
		s.Requeued += cs.RequeueCount
		s.TimedOut += cs.TimeoutCount
		s.Consumers += int32(cs.ClientCount)
		s.MessageCount += cs.MessageCount
		paused = paused && cs.Paused
	}
	s.Paused = paused && held > 0
	c.Status = s
	ok, reason, msg := summarize("channel", held, states)
	setReady(&c.Status.Conditions, c.Generation, ok, reason, msg)
}

// deleteFromNSQ deletes the channel from every daemon and lookup. A missing
// Topic or Lookup, or a Lookup with no replica to ask, means there is
// nothing left to reach: deletion proceeds.
func (r *ChannelReconciler) deleteFromNSQ(ctx context.Context, c *v1alpha1.Channel) error {
	t, lookups, err := r.resolve(ctx, c)
	if err != nil || t == nil || lookups == nil {
		return err
	}
	name := t.NSQName() + "/" + c.NSQName()
	if len(lookups) == 0 {
		record(r.Recorder, c, nil, corev1.EventTypeWarning, EventNotDeleted, "Delete", "channel %s left on the daemons: %s",
			name, noReplicaMessage(lookupName(t)))
		return nil
	}
	n, err := deleteEverywhere(ctx, r.NSQ, lookups,
		func(n string) error { return r.NSQ.Channel(ctx, n, t.NSQName(), c.NSQName(), nsqapi.Delete) },
		func(a string) error { return r.NSQ.LookupChannel(ctx, a, t.NSQName(), c.NSQName(), false) })
	if err != nil {
		setReady(&c.Status.Conditions, c.Generation, false, failReason(err), "deleting: "+err.Error())
		return fmt.Errorf("deleting channel %s: %w", name, err)
	}
	record(r.Recorder, c, nil, corev1.EventTypeNormal, EventDeleted, "Delete", "deleted channel %s from %s", name, countNodes(n))
	return nil
}

// SetupWithManager registers the reconciler with mgr.
func (r *ChannelReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).For(&v1alpha1.Channel{}, ownSpecChanges).Named("channel").
		// A Topic's status changes every stats interval; only its creation,
		// spec and deletion matter to its Channels.
		Watches(&v1alpha1.Topic{}, handler.EnqueueRequestsFromMapFunc(r.channelsOfTopic),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(r)
}

// channelsOfTopic maps a Topic to the Channels that refer to it.
func (r *ChannelReconciler) channelsOfTopic(ctx context.Context, obj client.Object) []reconcile.Request {
	var list v1alpha1.ChannelList
	if err := r.List(ctx, &list, client.InNamespace(obj.GetNamespace())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing channels of a topic")
		return nil
	}
	var out []reconcile.Request
	for i := range list.Items {
		if list.Items[i].Spec.TopicRef.Name == obj.GetName() {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
	return out
}
