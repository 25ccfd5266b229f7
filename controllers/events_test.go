package controllers_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers"
)

// findEvent returns the events.k8s.io/v1 Event in obj's namespace about obj
// (by UID, so not an earlier object of the same name) with reason, or nil.
func findEvent(t *testing.T, obj client.Object, reason string) *eventsv1.Event {
	t.Helper()
	var list eventsv1.EventList
	must(t, k8s.List(context.Background(), &list, client.InNamespace(obj.GetNamespace())))
	for i := range list.Items {
		if e := &list.Items[i]; e.Regarding.UID == obj.GetUID() && e.Reason == reason {
			return e
		}
	}
	return nil
}

// wantEvent waits for obj's event with reason and checks what `kubectl
// events` shows of it: type Normal, the object, the controller, the action,
// and a note containing every one of note.
func wantEvent(t *testing.T, obj client.Object, kind, controller, reason, action string, note ...string) {
	t.Helper()
	var e *eventsv1.Event
	eventually(t, reason+" event on "+kind+" "+obj.GetName(), func() bool {
		e = findEvent(t, obj, reason)
		return e != nil
	})
	if e.Type != corev1.EventTypeNormal || e.Action != action || e.ReportingController != controller {
		t.Errorf("%s event: type %q action %q controller %q", reason, e.Type, e.Action, e.ReportingController)
	}
	if r := e.Regarding; r.Kind != kind || r.Name != obj.GetName() || r.Namespace != obj.GetNamespace() ||
		r.APIVersion != v1alpha1.GroupVersion.String() {
		t.Errorf("%s event regarding %+v", reason, r)
	}
	for _, n := range note {
		if !strings.Contains(e.Note, n) {
			t.Errorf("%s event note %q lacks %q", reason, e.Note, n)
		}
	}
}

func TestTopicEvents(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, true)
	name := ns + "-evented"
	must(t, k8s.Create(ctx, newTopic(ns, name, v1alpha1.DeletionPolicyDelete)))
	tp := topicReady(t, ns, name)
	const ctl = "topic-controller"
	wantEvent(t, tp, "Topic", ctl, controllers.EventCreated, "Create", "created topic "+name+" on 1 node: "+daemonHTTP+"; now on 1 of 1 nodes")
	if e := findEvent(t, tp, controllers.EventPaused); e != nil {
		t.Errorf("Paused event for a topic created unpaused: %q", e.Note)
	}

	must(t, updateRetrying(ctx, tp, func() { tp.Spec.Paused = true }))
	wantEvent(t, tp, "Topic", ctl, controllers.EventPaused, "Pause", "paused topic "+name+" on 1 node: "+daemonHTTP)
	must(t, updateRetrying(ctx, tp, func() { tp.Spec.Paused = false }))
	wantEvent(t, tp, "Topic", ctl, controllers.EventUnpaused, "Unpause", "unpaused topic "+name+" on 1 node: "+daemonHTTP)

	// The Deleted event is recorded before the finalizer goes, and outlives
	// the Topic: `kubectl events` still says what deletion did.
	must(t, k8s.Delete(ctx, tp))
	eventually(t, "topic gone from the API and queued", func() bool {
		var gone v1alpha1.Topic
		return !get(t, ns, name, &gone) && !onDaemon(t, name, "")
	})
	wantEvent(t, tp, "Topic", ctl, controllers.EventDeleted, "Delete", "deleted topic "+name+" from 1 node")
}

func TestChannelEvents(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, true)
	topic := ns + "-evented"
	must(t, k8s.Create(ctx, newTopic(ns, topic, v1alpha1.DeletionPolicyDelete)))
	// The topic on the daemon first: a daemon creating a topic also creates
	// the channels lookupd knows for it, as nsqd does, and a channel the
	// daemon made itself is not the Channel reconciler's to announce.
	topicReady(t, ns, topic)
	ch := newChannel(ns, "listener", topic, v1alpha1.DeletionPolicyDelete)
	must(t, k8s.Create(ctx, ch))
	eventually(t, "channel in the cache", func() bool { return get(t, ns, ch.Name, ch) })
	const ctl = "channel-controller"
	wantEvent(t, ch, "Channel", ctl, controllers.EventCreated, "Create", "created channel "+topic+"/listener on 1 node: "+daemonHTTP)

	must(t, updateRetrying(ctx, ch, func() { ch.Spec.Paused = true }))
	wantEvent(t, ch, "Channel", ctl, controllers.EventPaused, "Pause", "paused channel "+topic+"/listener on 1 node: "+daemonHTTP)

	must(t, k8s.Delete(ctx, ch))
	eventually(t, "channel gone from the API and queued", func() bool {
		var gone v1alpha1.Channel
		return !get(t, ns, ch.Name, &gone) && !onDaemon(t, topic, "listener")
	})
	wantEvent(t, ch, "Channel", ctl, controllers.EventDeleted, "Delete", "deleted channel "+topic+"/listener from 1 node")
}
