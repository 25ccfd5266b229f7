package controllers

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers/nsqapi"
)

// twoDaemons is a lookup and two queue daemons, a:4151 and b:4151, held
// in memory: topics maps a daemon's address to the topics it holds.
type twoDaemons struct {
	nsqapi.Daemons // calls this test does not expect panic
	topics         map[string]map[string]bool
}

func (d *twoDaemons) Nodes(ctx context.Context, lookup string) ([]nsqapi.Producer, error) {
	return []nsqapi.Producer{{BroadcastAddress: "a", HTTPPort: 4151}, {BroadcastAddress: "b", HTTPPort: 4151}}, nil
}

func (d *twoDaemons) Stats(ctx context.Context, addr, topic string) (*nsqapi.TopicStats, error) {
	if !d.topics[addr][topic] {
		return nil, nil
	}
	return &nsqapi.TopicStats{TopicName: topic}, nil
}

func (d *twoDaemons) Topic(ctx context.Context, addr, topic string, action nsqapi.Action) error {
	if action == nsqapi.Create {
		d.topics[addr][topic] = true
	}
	return nil
}

// The issue: the Channel controller had made the topic on b, the Topic
// controller made it on a, and its Created event said "on 1 node" while
// status said 2 of 2. The event now says both.
func TestTopicCreatedEventCountsWhatStatusCounts(t *testing.T) {
	nsq := &twoDaemons{topics: map[string]map[string]bool{"a:4151": {}, "b:4151": {"orders": true}}}
	rec := events.NewFakeRecorder(10)
	r := &TopicReconciler{NSQ: nsq, Recorder: rec}
	topic := &v1alpha1.Topic{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "orders"}}
	states, err := r.reconcileNodes(context.Background(), topic, []string{"lookupd:4161"})
	if err != nil {
		t.Fatal(err)
	}
	r.reconcileStats(topic, states)
	if topic.Status.Nodes != 2 {
		t.Fatalf("status.nodes %d, want 2", topic.Status.Nodes)
	}
	select {
	case e := <-rec.Events:
		want := "Normal Created created topic orders on 1 node: a:4151; now on 2 of 2 nodes"
		if !strings.HasPrefix(e, want) {
			t.Errorf("event %q, want %q", e, want)
		}
	default:
		t.Fatal("no event")
	}
}
