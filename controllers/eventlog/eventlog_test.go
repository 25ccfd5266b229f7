package eventlog

import (
	"testing"

	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
)

func TestDescribe(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}}
	ref := &corev1.ObjectReference{Kind: "ReplicaSet", Namespace: "ns", Name: "rs"}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}}
	check := func(k, n, wantK, wantN string) {
		t.Helper()
		if k != wantK || n != wantN {
			t.Errorf("Describe = %s %s, want %s %s", k, n, wantK, wantN)
		}
	}
	k, n := Describe(pod)
	check(k, n, "Pod", "ns/p")
	k, n = Describe(ref)
	check(k, n, "ReplicaSet", "ns/rs")
	k, n = Describe(node)
	check(k, n, "Node", "n")
}

// Each event is one info line with the event's note as its message.
func TestLog(t *testing.T) {
	var lines []string
	ctrl.SetLogger(funcr.New(func(prefix, args string) { lines = append(lines, prefix+" "+args) }, funcr.Options{}))
	topic := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "orders"}}
	Log(topic, corev1.EventTypeNormal, "Created", "created topic %s on %d nodes", "orders", 2)
	want := `events "level"=0 "msg"="created topic orders on 2 nodes" "kind"="ConfigMap" "object"="ns/orders" "reason"="Created" "type"="Normal"`
	if len(lines) != 1 || lines[0] != want {
		t.Errorf("logged %q, want %q", lines, want)
	}
}
