package backlogtest

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// However the pod or its ReplicaSet is deleted (background, foreground or
// orphan), the garbage collector finds a live owner on the claim until its
// backlog is drained: the Backlog.
func TestClaimKeptUnderEveryDeletion(t *testing.T) {
	t.Parallel()
	for _, target := range []string{"pod", "replicaset"} {
		for _, policy := range []metav1.DeletionPropagation{
			metav1.DeletePropagationBackground, metav1.DeletePropagationForeground, metav1.DeletePropagationOrphan,
		} {
			t.Run(target+"/"+string(policy), func(t *testing.T) {
				t.Parallel()
				claimSurvives(t, target, policy)
			})
		}
	}
}

func claimSurvives(t *testing.T, target string, policy metav1.DeletionPropagation) {
	ctx := context.Background()
	ns := namespace(t)
	startOperator(t, ns)
	rs := replicaSet(t, ns)
	pod := ownedPublisher(t, rs, node(t, ns+"-n1").Name)
	b := inPhase(t, pod, v1alpha1.BacklogAttached)
	within(t, "the backlog to own the claim", func() bool { return ownedBy(claimOf(t, pod), b) })

	var victim client.Object = pod
	if target == "replicaset" {
		victim = rs
	}
	must(t, k8s.Delete(ctx, victim, client.PropagationPolicy(policy)))
	collectGarbage(t, ns)
	must(t, k8s.Get(ctx, client.ObjectKeyFromObject(pod), pod))
	if pod.DeletionTimestamp == nil {
		// The ReplicaSet's pods were orphaned: the pod runs on; a scale-down
		// ends it later.
		must(t, k8s.Delete(ctx, pod))
	}
	sidecarExits(t, pod, corev1.PodSucceeded, summary(false, 42))
	kubeletDone(t, pod)
	inPhase(t, pod, v1alpha1.BacklogDraining)
	within(t, "the pod to be released", gone(pod))
	collectGarbage(t, ns)

	c := claimOf(t, pod)
	if c == nil || c.DeletionTimestamp != nil {
		t.Fatalf("the claim was deleted with its backlog undrained: %+v", c)
	}
	if !ownedBy(c, b) {
		t.Fatalf("the claim's owners %+v lack its backlog", c.OwnerReferences)
	}
}

// replicaSet is an owner for pods; no ReplicaSet controller runs.
func replicaSet(t *testing.T, ns string) *appsv1.ReplicaSet {
	t.Helper()
	labels := map[string]string{"app": "pub"}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pub"},
		Spec: appsv1.ReplicaSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}}},
		},
	}
	must(t, k8s.Create(context.Background(), rs))
	return rs
}

// ownedPublisher is a publisher pod as the ReplicaSet controller makes it.
func ownedPublisher(t *testing.T, rs *appsv1.ReplicaSet, nodeName string) *corev1.Pod {
	t.Helper()
	pod := publisher(t, rs.Namespace, rs.Name+"-x1", nodeName)
	update(t, pod, func() {
		pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name,
			UID: rs.UID, Controller: new(true), BlockOwnerDeletion: new(true)}}
	}, false)
	return pod
}

// A StatefulSet's next pod has its predecessor's name, so its claim's
// name too: it waits (unscheduled) while the old claim drains, and if it is
// deleted meanwhile, nothing holds it.
func TestSuccessorWaitsAndGoesFreely(t *testing.T) {
	t.Parallel()
	ns, pod := attachedPublisher(t)
	stopPod(t, pod, summary(false, 8))
	inPhase(t, pod, v1alpha1.BacklogDraining)
	within(t, "the pod to be released", gone(pod))

	next := publisherObject(t, ns, pod.Name, "")
	must(t, k8s.Create(context.Background(), next))
	if b := inPhase(t, next, v1alpha1.BacklogDraining); b.Spec.PodUID == next.UID {
		t.Fatal("the successor took over its predecessor's backlog")
	}
	must(t, k8s.Delete(context.Background(), next))
	within(t, "the unscheduled successor to go", gone(next))
	if b := backlogOf(t, pod); b == nil || b.Status.Phase != v1alpha1.BacklogDraining {
		t.Fatalf("the predecessor's backlog %+v", b)
	}
}
