package controllers_test

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers"
	"github.com/sidequeue/sidequeue/internal/lookupwire"
)

// ghostDaemon registers with the test's lookupd as a queue daemon whose HTTP
// port answers nothing: a node that was lost but that lookupd still lists
// (until its inactive-producer timeout). Closing the connection removes it.
func ghostDaemon(t *testing.T, topic string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", lookupTCP)
	must(t, err)
	t.Cleanup(func() { conn.Close() })
	must(t, lookupwire.WriteMagic(conn))
	identify, err := lookupwire.Identify(lookupwire.PeerInfo{BroadcastAddress: "127.0.0.1", Hostname: "ghost",
		TCPPort: 1, HTTPPort: 1, Version: "1.3.0"})
	must(t, err)
	for _, cmd := range []lookupwire.Command{identify, lookupwire.Register(topic, "")} {
		must(t, lookupwire.WriteCommand(conn, cmd))
		if _, err := lookupwire.ReadResponse(conn, 1<<20); err != nil {
			t.Fatalf("%s: %v", cmd.Name, err)
		}
	}
	return conn
}

// A lost daemon does not hold up the others: the topic and channel are on
// the daemon that answers, status says which failed, and deletion waits for
// the lost one only as long as lookupd lists it.
func TestLostDaemonDoesNotBlockTheOthers(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, true)
	topic := ns + "-partial"
	ghost := ghostDaemon(t, topic)
	must(t, k8s.Create(ctx, newTopic(ns, topic, v1alpha1.DeletionPolicyDelete)))
	must(t, k8s.Create(ctx, newChannel(ns, "c", topic, v1alpha1.DeletionPolicyDelete)))

	var tp v1alpha1.Topic
	eventually(t, "topic on the live daemon, the lost one reported", func() bool {
		return get(t, ns, topic, &tp) && tp.Status.Nodes == 1 &&
			ready(tp.Status.Conditions, tp.Generation, metav1.ConditionFalse, v1alpha1.ReasonUnreachable) &&
			strings.Contains(readyMessage(tp.Status.Conditions), "topic on 1 of 2 nodes; 1 failed: topic stats: 127.0.0.1:1/stats: ")
	})
	var ch v1alpha1.Channel
	eventually(t, "channel on the live daemon, the lost one reported", func() bool {
		return get(t, ns, "c", &ch) && onDaemon(t, topic, "c") &&
			strings.Contains(readyMessage(ch.Status.Conditions), "channel on 1 of 2 nodes; 1 failed")
	})

	must(t, k8s.Delete(ctx, &tp))
	eventually(t, "deletion reports the lost daemon", func() bool {
		return get(t, ns, topic, &tp) && strings.HasPrefix(readyMessage(tp.Status.Conditions), "deleting: ")
	})
	// The Channel does not bring the topic back while it is being deleted.
	eventually(t, "the channel sees its Topic going", func() bool {
		return get(t, ns, "c", &ch) && strings.Contains(readyMessage(ch.Status.Conditions), "is being deleted")
	})
	eventually(t, "the topic gone from the live daemon while the lost one holds up the finalizer", func() bool {
		return get(t, ns, topic, &tp) && !onDaemon(t, topic, "")
	})
	ghost.Close() // lookupd forgets the lost daemon
	eventually(t, "topic gone once lookupd no longer lists the lost daemon", func() bool { return !get(t, ns, topic, &tp) })
}

func readyMessage(conds []metav1.Condition) string {
	for _, c := range conds {
		if c.Type == v1alpha1.ConditionReady {
			return c.Message
		}
	}
	return ""
}

// A managed Lookup made external stops running lookupd.
func TestManagedLookupTurnedExternal(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, false)
	must(t, k8s.Create(ctx, managedLookup(ns, "tier")))
	eventually(t, "the PodDisruptionBudget, applied last", func() bool { return get(t, ns, "tier-lookupd", &policyv1.PodDisruptionBudget{}) })

	l := v1alpha1.Lookup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tier"}}
	must(t, updateRetrying(ctx, &l, func() {
		l.Spec = v1alpha1.LookupSpec{External: &v1alpha1.ExternalLookup{
			TCPAddresses: []string{lookupTCP}, HTTPAddresses: []string{lookupHTTP}}}
	}))
	eventually(t, "Deployment, Services and PDB deleted", func() bool {
		return !get(t, ns, "tier-lookupd", &appsv1.Deployment{}) && !get(t, ns, "tier-lookupd", &corev1.Service{}) &&
			!get(t, ns, "tier-lookupd-headless", &corev1.Service{}) && !get(t, ns, "tier-lookupd", &policyv1.PodDisruptionBudget{})
	})
	eventually(t, "Ready as an external Lookup", func() bool {
		return get(t, ns, "tier", &l) && ready(l.Status.Conditions, l.Generation, metav1.ConditionTrue, controllers.ReasonReady)
	})
	if notes := notesOf(t, ns, "tier", controllers.EventDeleted); !slices.Contains(notes, "deleted Deployment tier-lookupd: the Lookup is external now") {
		t.Errorf("Deleted events %q", notes)
	}
}

// An object in the way is not adopted: the Lookup says whose it is not.
func TestManagedLookupRefusesAnotherObject(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, false)
	must(t, k8s.Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tier-lookupd"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
	}))
	must(t, k8s.Create(ctx, managedLookup(ns, "tier")))
	var l v1alpha1.Lookup
	eventually(t, "ApplyFailed naming the Service", func() bool {
		return get(t, ns, "tier", &l) && ready(l.Status.Conditions, l.Generation, metav1.ConditionFalse, controllers.ReasonApplyFailed) &&
			strings.Contains(readyMessage(l.Status.Conditions), "Service tier-lookupd exists and does not belong to Lookup tier")
	})
}
