package controllers

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers/nsqapi"
)

// TopicReconciler registers Topics in their Lookup's lookupd replicas and
// creates them on every queue daemon the lookup knows.
type TopicReconciler struct {
	client.Client
	NSQ      nsqapi.Daemons
	Recorder events.EventRecorder
	// StatsInterval is how often status is refreshed from the daemons.
	StatsInterval time.Duration
}

// errMissing marks a dependency that does not exist (yet): not an error to
// retry with backoff, but a condition to report and a short requeue.
var errMissing = errors.New("dependency missing")

// Reads through the cache; the finalizer and status are merge patches.
// +kubebuilder:rbac:groups=sidequeue.io,resources=topics,verbs=list;watch;patch
// +kubebuilder:rbac:groups=sidequeue.io,resources=topics/status,verbs=patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

func (r *TopicReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, err error) {
	var t v1alpha1.Topic
	if err := r.Get(ctx, req.NamespacedName, &t); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := t.Status.DeepCopy()
	defer func() {
		if uerr := updateStatus(ctx, r.Client, &t, before, &t.Status); uerr != nil && err == nil {
			err = uerr
		}
	}()
	t.Status.ObservedGeneration = t.Generation
	if !t.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, finalize(ctx, r.Client, &t, t.Spec.DeletionPolicy, func(ctx context.Context) error {
			return r.deleteFromNSQ(ctx, &t)
		})
	}
	if err := addFinalizer(ctx, r.Client, &t); err != nil {
		return ctrl.Result{}, err
	}
	lookups, err := r.reconcileLookups(ctx, &t)
	if errors.Is(err, errMissing) {
		return ctrl.Result{RequeueAfter: missingRetry}, nil
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	states, err := r.reconcileNodes(ctx, &t, lookups)
	if err != nil {
		return ctrl.Result{}, err
	}
	r.reconcileStats(&t, states)
	return ctrl.Result{RequeueAfter: statsInterval(r.StatsInterval)}, nil
}

func statsInterval(d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return DefaultStatsInterval
}

// reconcileLookups registers the topic in every lookup address; it returns
// the addresses, or errMissing when the Lookup does not exist.
func (r *TopicReconciler) reconcileLookups(ctx context.Context, t *v1alpha1.Topic) ([]string, error) {
	addrs, err := lookupAddrs(ctx, r.Client, t.Namespace, t.Spec.LookupRef.Name)
	if err != nil {
		return nil, fmt.Errorf("getting lookup: %w", err)
	}
	if addrs == nil {
		setReady(&t.Status.Conditions, t.Generation, false, v1alpha1.ReasonLookupNotFound,
			fmt.Sprintf("Lookup %q not found", lookupName(t)))
		return nil, errMissing
	}
	if len(addrs) == 0 {
		setReady(&t.Status.Conditions, t.Generation, false, ReasonLookupNotReady, noReplicaMessage(lookupName(t)))
		return nil, errMissing
	}
	addrs, err = registerEverywhere(addrs, func(a string) error { return r.NSQ.LookupTopic(ctx, a, t.NSQName(), true) })
	if err != nil {
		setReady(&t.Status.Conditions, t.Generation, false, failReason(err), err.Error())
		return nil, fmt.Errorf("registering topic in lookup: %w", err)
	}
	return addrs, nil
}

func lookupName(t *v1alpha1.Topic) string {
	if t.Spec.LookupRef.Name == "" {
		return v1alpha1.DefaultLookupName
	}
	return t.Spec.LookupRef.Name
}

// reconcileNodes creates the topic on every daemon and applies pause. A
// daemon that fails is reported in its nodeState; the others go on, since a
// lost node stays in /nodes until lookupd's inactive-producer timeout.
func (r *TopicReconciler) reconcileNodes(ctx context.Context, t *v1alpha1.Topic, lookups []string) ([]nodeState, error) {
	addrs, err := nodes(ctx, r.NSQ, lookups)
	if err != nil {
		setReady(&t.Status.Conditions, t.Generation, false, failReason(err), err.Error())
		return nil, err
	}
	done := &nodeEvents{}
	states := askNodes(addrs, func(n string) (*nsqapi.TopicStats, error) { return r.reconcileNode(ctx, t, n, done) })
	done.emit(r.Recorder, t, "topic "+t.NSQName(), topicHeld(states), len(states))
	return states, nil
}

// reconcileNode makes the topic on daemon n as declared and returns its
// stats as they are afterwards.
func (r *TopicReconciler) reconcileNode(ctx context.Context, t *v1alpha1.Topic, n string, done *nodeEvents) (*nsqapi.TopicStats, error) {
	st, err := r.NSQ.Stats(ctx, n, t.NSQName())
	if err != nil {
		return nil, fmt.Errorf("topic stats: %w", err)
	}
	if st == nil {
		if err := r.NSQ.Topic(ctx, n, t.NSQName(), nsqapi.Create); err != nil {
			return nil, fmt.Errorf("creating topic: %w", err)
		}
		done.add(EventCreated, n)
	}
	// A new topic is unpaused: pausing it is news, unpausing it is not.
	if (st == nil && t.Spec.Paused) || (st != nil && st.Paused != t.Spec.Paused) {
		action := pauseAction(t.Spec.Paused)
		if err := r.NSQ.Topic(ctx, n, t.NSQName(), action); err != nil {
			return nil, fmt.Errorf("%s topic: %w", action, err)
		}
		done.add(pauseEvent(t.Spec.Paused), n)
	}
	if st == nil || st.Paused != t.Spec.Paused {
		return r.NSQ.Stats(ctx, n, t.NSQName())
	}
	return st, nil
}

// reconcileStats sums what the daemons reported into status.
func (r *TopicReconciler) reconcileStats(t *v1alpha1.Topic, states []nodeState) {
	var depth, count int64
	held := topicHeld(states)
	paused := true
	chans := map[string]bool{}
	for _, s := range states {
		if s.err != nil || s.stats == nil {
			continue // not held: see topicHeld
		}
		depth += s.stats.Depth
		count += s.stats.MessageCount
		paused = paused && s.stats.Paused
		for _, c := range s.stats.Channels {
			chans[c.ChannelName] = true
		}
	}
	t.Status.Nodes, t.Status.Depth, t.Status.MessageCount = held, depth, count
	t.Status.Paused = paused && held > 0
	t.Status.Channels = nil
	for c := range chans {
		t.Status.Channels = append(t.Status.Channels, c)
	}
	sort.Strings(t.Status.Channels)
	ok, reason, msg := summarize("topic", held, states)
	setReady(&t.Status.Conditions, t.Generation, ok, reason, msg)
}

// deleteFromNSQ deletes the topic from every daemon and lookup. A missing
// Lookup, or one with no replica to ask, means there is nothing left to
// reach: deletion proceeds.
func (r *TopicReconciler) deleteFromNSQ(ctx context.Context, t *v1alpha1.Topic) error {
	lookups, err := lookupAddrs(ctx, r.Client, t.Namespace, t.Spec.LookupRef.Name)
	if err != nil || lookups == nil {
		return err
	}
	if len(lookups) == 0 {
		record(r.Recorder, t, nil, corev1.EventTypeWarning, EventNotDeleted, "Delete", "topic %s left on the daemons: %s",
			t.NSQName(), noReplicaMessage(lookupName(t)))
		return nil
	}
	n, err := deleteEverywhere(ctx, r.NSQ, lookups,
		func(n string) error { return r.NSQ.Topic(ctx, n, t.NSQName(), nsqapi.Delete) },
		func(a string) error { return r.NSQ.LookupTopic(ctx, a, t.NSQName(), false) })
	if err != nil {
		setReady(&t.Status.Conditions, t.Generation, false, failReason(err), "deleting: "+err.Error())
		return fmt.Errorf("deleting topic %s: %w", t.NSQName(), err)
	}
	record(r.Recorder, t, nil, corev1.EventTypeNormal, EventDeleted, "Delete", "deleted topic %s from %s", t.NSQName(), countNodes(n))
	return nil
}

// SetupWithManager registers the reconciler with mgr.
func (r *TopicReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).For(&v1alpha1.Topic{}, ownSpecChanges).Named("topic").
		Watches(&v1alpha1.Lookup{}, handler.EnqueueRequestsFromMapFunc(r.topicsOfLookup)).
		Complete(r)
}

// topicsOfLookup maps a Lookup to the Topics that refer to it, so that they
// are reconciled as soon as it appears or changes.
func (r *TopicReconciler) topicsOfLookup(ctx context.Context, obj client.Object) []reconcile.Request {
	var list v1alpha1.TopicList
	if err := r.List(ctx, &list, client.InNamespace(obj.GetNamespace())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing topics of a lookup")
		return nil
	}
	var out []reconcile.Request
	for i := range list.Items {
		if lookupName(&list.Items[i]) == obj.GetName() {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
	return out
}
