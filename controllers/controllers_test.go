package controllers_test

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gonsq "github.com/nsqio/go-nsq"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers"
)

func publish(t *testing.T, topic string, n int) {
	t.Helper()
	for range n {
		resp, err := http.Post("http://"+daemonHTTP+"/pub?topic="+topic, "text/plain", strings.NewReader("m"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("publish: status %d", resp.StatusCode)
		}
	}
}

// consume connects a go-nsq consumer through lookupd and counts messages
// until want arrive or 10 s pass.
func consume(t *testing.T, topic, channel string, want int) int {
	t.Helper()
	cfg := gonsq.NewConfig()
	cfg.LookupdPollInterval = 100 * time.Millisecond
	c, err := gonsq.NewConsumer(topic, channel, cfg)
	must(t, err)
	c.SetLogger(log.New(io.Discard, "", 0), gonsq.LogLevelError)
	var got atomic.Int32
	c.AddHandler(gonsq.HandlerFunc(func(*gonsq.Message) error { got.Add(1); return nil }))
	must(t, c.ConnectToNSQLookupd(lookupHTTP))
	defer func() { c.Stop(); <-c.StopChan }()
	deadline := time.Now().Add(10 * time.Second)
	for int(got.Load()) < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	return int(got.Load())
}

func lookupdTopics(t *testing.T) []string {
	t.Helper()
	resp, err := http.Get("http://" + lookupHTTP + "/topics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Topics []string `json:"topics"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Topics
}

func onDaemon(t *testing.T, topic, channel string) bool {
	t.Helper()
	st, err := nsq.Stats(context.Background(), daemonHTTP, topic)
	if err != nil {
		t.Fatal(err)
	}
	if st == nil {
		return false
	}
	if channel == "" {
		return true
	}
	for _, c := range st.Channels {
		if c.ChannelName == channel {
			return true
		}
	}
	return false
}

func newTopic(ns, name string, policy v1alpha1.DeletionPolicy) *v1alpha1.Topic {
	return &v1alpha1.Topic{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1alpha1.TopicSpec{LookupRef: v1alpha1.LocalObjectReference{Name: "default"}, DeletionPolicy: policy},
	}
}

func newChannel(ns, name, topic string, policy v1alpha1.DeletionPolicy) *v1alpha1.Channel {
	return &v1alpha1.Channel{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1alpha1.ChannelSpec{TopicRef: v1alpha1.LocalObjectReference{Name: topic}, DeletionPolicy: policy},
	}
}

func topicReady(t *testing.T, ns, name string) *v1alpha1.Topic {
	t.Helper()
	var tp v1alpha1.Topic
	eventually(t, "topic "+name+" Ready", func() bool {
		return get(t, ns, name, &tp) && ready(tp.Status.Conditions, tp.Generation, metav1.ConditionTrue, controllers.ReasonReady)
	})
	return &tp
}

func TestExternalLookup(t *testing.T) {
	ns := namespace(t, true)
	var l v1alpha1.Lookup
	eventually(t, "Lookup Ready with one producer", func() bool {
		return get(t, ns, "default", &l) && l.Status.Producers == 1 &&
			ready(l.Status.Conditions, l.Generation, metav1.ConditionTrue, controllers.ReasonReady)
	})
	if a := l.Status.ConsumerAddresses; a == nil || !slices.Equal(a.HTTPAddresses, []string{lookupHTTP}) {
		t.Fatalf("consumer addresses %+v", a)
	}

	bad := &v1alpha1.Lookup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gone"},
		Spec: v1alpha1.LookupSpec{External: &v1alpha1.ExternalLookup{
			TCPAddresses: []string{"127.0.0.1:1"}, HTTPAddresses: []string{"127.0.0.1:1"}}}}
	must(t, k8s.Create(context.Background(), bad))
	eventually(t, "unreachable Lookup Unreachable", func() bool {
		return get(t, ns, "gone", bad) && ready(bad.Status.Conditions, bad.Generation, metav1.ConditionFalse, v1alpha1.ReasonUnreachable)
	})
}

func TestTopicLifecycle(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, true)
	name := ns + "-orders"
	must(t, k8s.Create(ctx, newTopic(ns, name, v1alpha1.DeletionPolicyDelete)))
	topicReady(t, ns, name)
	if !slices.Contains(lookupdTopics(t), name) {
		t.Fatalf("lookupd /topics lacks %s", name)
	}
	if !onDaemon(t, name, "") {
		t.Fatalf("queued lacks topic %s", name)
	}

	// Pause and unpause reach the daemon and come back in status.
	for _, paused := range []bool{true, false} {
		var tp v1alpha1.Topic
		get(t, ns, name, &tp)
		tp.Spec.Paused = paused
		must(t, k8s.Update(ctx, &tp))
		eventually(t, "paused status", func() bool {
			st, err := nsq.Stats(ctx, daemonHTTP, name)
			return err == nil && st != nil && st.Paused == paused &&
				get(t, ns, name, &tp) && tp.Status.Paused == paused && tp.Status.ObservedGeneration == tp.Generation
		})
	}

	// Depth counts what was published and not consumed (no channel: the topic holds it).
	publish(t, name, 3)
	eventually(t, "topic depth 3", func() bool {
		var tp v1alpha1.Topic
		return get(t, ns, name, &tp) && tp.Status.Depth == 3 && tp.Status.MessageCount == 3 && tp.Status.Nodes == 1
	})

	var tp v1alpha1.Topic
	get(t, ns, name, &tp)
	must(t, k8s.Delete(ctx, &tp))
	eventually(t, "topic gone from the API and queued", func() bool {
		return !get(t, ns, name, &tp) && !onDaemon(t, name, "") && !slices.Contains(lookupdTopics(t), name)
	})
}

func TestTopicRetain(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, true)
	name := ns + "-kept"
	must(t, k8s.Create(ctx, newTopic(ns, name, v1alpha1.DeletionPolicyRetain)))
	tp := topicReady(t, ns, name)
	must(t, k8s.Delete(ctx, tp))
	eventually(t, "topic gone from the API", func() bool { return !get(t, ns, name, tp) })
	if !onDaemon(t, name, "") {
		t.Fatalf("Retain: queued lost topic %s", name)
	}
}

func TestTopicMissingLookup(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, false)
	tp := newTopic(ns, "orphan", v1alpha1.DeletionPolicyDelete)
	must(t, k8s.Create(ctx, tp))
	eventually(t, "LookupNotFound", func() bool {
		return get(t, ns, "orphan", tp) && len(tp.Finalizers) == 1 &&
			ready(tp.Status.Conditions, tp.Generation, metav1.ConditionFalse, v1alpha1.ReasonLookupNotFound)
	})
	must(t, k8s.Delete(ctx, tp))
	eventually(t, "deletion without a Lookup", func() bool { return !get(t, ns, "orphan", tp) })

	// A Lookup created later is noticed at once (the watch), well before
	// the retry of a missing Lookup.
	late := newTopic(ns, ns+"-late", v1alpha1.DeletionPolicyDelete)
	must(t, k8s.Create(ctx, late))
	eventually(t, "LookupNotFound", func() bool {
		return get(t, ns, late.Name, late) &&
			ready(late.Status.Conditions, late.Generation, metav1.ConditionFalse, v1alpha1.ReasonLookupNotFound)
	})
	must(t, k8s.Create(ctx, &v1alpha1.Lookup{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"},
		Spec: v1alpha1.LookupSpec{External: &v1alpha1.ExternalLookup{
			TCPAddresses: []string{lookupTCP}, HTTPAddresses: []string{lookupHTTP}}},
	}))
	within(t, 3*time.Second, "topic Ready once its Lookup exists", func() bool {
		return get(t, ns, late.Name, late) && ready(late.Status.Conditions, late.Generation, metav1.ConditionTrue, controllers.ReasonReady)
	})
	must(t, k8s.Delete(ctx, late))
	eventually(t, "late topic gone from queued", func() bool { return !get(t, ns, late.Name, late) && !onDaemon(t, late.Name, "") })
}

func TestChannelLifecycle(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, true)
	topic := ns + "-events"
	must(t, k8s.Create(ctx, newTopic(ns, topic, v1alpha1.DeletionPolicyRetain)))
	must(t, k8s.Create(ctx, newChannel(ns, "billing", topic, v1alpha1.DeletionPolicyDelete)))
	var ch v1alpha1.Channel
	eventually(t, "channel Ready", func() bool {
		return get(t, ns, "billing", &ch) && ready(ch.Status.Conditions, ch.Generation, metav1.ConditionTrue, controllers.ReasonReady)
	})
	if !onDaemon(t, topic, "billing") {
		t.Fatal("queued lacks the channel before any consumer")
	}

	// Messages published once the Channel exists wait in it, and all reach
	// a consumer that connects later, finding the daemon through lookupd.
	publish(t, topic, 20)
	eventually(t, "channel depth 20", func() bool {
		return get(t, ns, "billing", &ch) && ch.Status.Depth == 20 && ch.Status.MessageCount == 20 && ch.Status.Consumers == 0
	})
	eventually(t, "topic lists the channel", func() bool {
		var tp v1alpha1.Topic
		return get(t, ns, topic, &tp) && slices.Equal(tp.Status.Channels, []string{"billing"})
	})
	if got := consume(t, topic, "billing", 20); got != 20 {
		t.Fatalf("a consumer connecting after the publishes got %d of 20 messages", got)
	}
	eventually(t, "channel depth 0", func() bool { return get(t, ns, "billing", &ch) && ch.Status.Depth == 0 })

	for _, paused := range []bool{true, false} {
		get(t, ns, "billing", &ch)
		ch.Spec.Paused = paused
		must(t, k8s.Update(ctx, &ch))
		eventually(t, "channel paused status", func() bool {
			st, err := nsq.Stats(ctx, daemonHTTP, topic)
			return err == nil && st != nil && len(st.Channels) == 1 && st.Channels[0].Paused == paused &&
				get(t, ns, "billing", &ch) && ch.Status.Paused == paused && ch.Status.ObservedGeneration == ch.Generation
		})
	}

	must(t, k8s.Delete(ctx, &ch))
	eventually(t, "channel gone from the API and queued", func() bool {
		return !get(t, ns, "billing", &ch) && !onDaemon(t, topic, "billing")
	})
	eventually(t, "the topic's status lists no channel", func() bool {
		var tp v1alpha1.Topic
		return get(t, ns, topic, &tp) && len(tp.Status.Channels) == 0
	})

	// Retain leaves the channel on the daemon.
	must(t, k8s.Create(ctx, newChannel(ns, "audit", topic, v1alpha1.DeletionPolicyRetain)))
	eventually(t, "channel audit Ready", func() bool {
		return get(t, ns, "audit", &ch) && ready(ch.Status.Conditions, ch.Generation, metav1.ConditionTrue, controllers.ReasonReady)
	})
	must(t, k8s.Delete(ctx, &ch))
	eventually(t, "channel audit gone from the API", func() bool { return !get(t, ns, "audit", &ch) })
	if !onDaemon(t, topic, "audit") {
		t.Fatal("Retain: queued lost the channel")
	}
}

func TestChannelMissingTopic(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, true)
	ch := newChannel(ns, "lost", "absent", v1alpha1.DeletionPolicyDelete)
	must(t, k8s.Create(ctx, ch))
	eventually(t, "TopicNotFound", func() bool {
		return get(t, ns, "lost", ch) && ready(ch.Status.Conditions, ch.Generation, metav1.ConditionFalse, v1alpha1.ReasonTopicNotFound)
	})
	must(t, k8s.Delete(ctx, ch))
	eventually(t, "deletion without a Topic", func() bool { return !get(t, ns, "lost", ch) })

	// A Topic created later is noticed at once (the watch).
	late := newChannel(ns, "late", ns+"-late", v1alpha1.DeletionPolicyDelete)
	must(t, k8s.Create(ctx, late))
	eventually(t, "TopicNotFound", func() bool {
		return get(t, ns, "late", late) && ready(late.Status.Conditions, late.Generation, metav1.ConditionFalse, v1alpha1.ReasonTopicNotFound)
	})
	must(t, k8s.Create(ctx, newTopic(ns, ns+"-late", v1alpha1.DeletionPolicyDelete)))
	within(t, 3*time.Second, "channel Ready once its Topic exists", func() bool {
		return get(t, ns, "late", late) && ready(late.Status.Conditions, late.Generation, metav1.ConditionTrue, controllers.ReasonReady)
	})
	if !onDaemon(t, ns+"-late", "late") {
		t.Fatal("queued lacks the late channel")
	}
}
