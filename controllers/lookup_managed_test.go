package controllers_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers"
	"github.com/sidequeue/sidequeue/lookup"
)

func managedLookup(ns, name string) *v1alpha1.Lookup {
	return &v1alpha1.Lookup{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.LookupSpec{
			Replicas: ptr.To[int32](3),
			Resources: &corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("48Mi")},
			},
			NodeSelector:            map[string]string{"pool": "infra"},
			Tolerations:             []corev1.Toleration{{Key: "infra", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			InactiveProducerTimeout: &metav1.Duration{Duration: time.Minute},
		},
	}
}

func TestManagedLookupObjects(t *testing.T) {
	ns := namespace(t, false)
	l := managedLookup(ns, "tier")
	must(t, k8s.Create(context.Background(), l))

	var dep appsv1.Deployment
	eventually(t, "Deployment tier-lookupd", func() bool { return get(t, ns, "tier-lookupd", &dep) })
	get(t, ns, "tier", l)
	checkOwner(t, &dep, l)
	if *dep.Spec.Replicas != 3 {
		t.Errorf("replicas %d, want 3", *dep.Spec.Replicas)
	}
	pod := dep.Spec.Template.Spec
	c := pod.Containers[0]
	if c.Image != controllers.DefaultImage || c.Command[0] != "lookupd" {
		t.Errorf("container runs %s %v", c.Image, c.Command)
	}
	for _, arg := range []string{"--tcp-address=0.0.0.0:4160", "--http-address=0.0.0.0:4161",
		"--broadcast-address=$(POD_IP)", "--inactive-producer-timeout=1m0s"} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("args %v lack %s", c.Args, arg)
		}
	}
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/ping" || p.HTTPGet.Port.StrVal != "http" {
		t.Errorf("readiness probe %+v", p)
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil {
		t.Errorf("no liveness probe")
	}
	if got := c.Resources.Requests[corev1.ResourceMemory]; got.String() != "48Mi" {
		t.Errorf("memory request %s, want 48Mi", got.String())
	}
	sc := c.SecurityContext
	if sc == nil || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || !*pod.SecurityContext.RunAsNonRoot {
		t.Errorf("security context %+v / %+v", sc, pod.SecurityContext)
	}
	if len(pod.TopologySpreadConstraints) != 2 || pod.TopologySpreadConstraints[0].TopologyKey != corev1.LabelHostname {
		t.Errorf("spread %+v", pod.TopologySpreadConstraints)
	}
	if pod.NodeSelector["pool"] != "infra" || len(pod.Tolerations) != 1 || pod.Tolerations[0].Key != "infra" {
		t.Errorf("scheduling: nodeSelector %v tolerations %+v", pod.NodeSelector, pod.Tolerations)
	}

	var svc, headless corev1.Service
	eventually(t, "both Services", func() bool {
		return get(t, ns, "tier-lookupd", &svc) && get(t, ns, "tier-lookupd-headless", &headless)
	})
	checkOwner(t, &svc, l)
	if svc.Spec.Type != corev1.ServiceTypeClusterIP || svc.Spec.ClusterIP == corev1.ClusterIPNone || servicePorts(&svc) != "http:4161,tcp:4160" {
		t.Errorf("consumer Service %s %s %s", svc.Spec.Type, svc.Spec.ClusterIP, servicePorts(&svc))
	}
	if headless.Spec.ClusterIP != corev1.ClusterIPNone || !headless.Spec.PublishNotReadyAddresses || servicePorts(&headless) != "http:4161,tcp:4160" {
		t.Errorf("headless Service %s publishNotReady=%v %s", headless.Spec.ClusterIP, headless.Spec.PublishNotReadyAddresses, servicePorts(&headless))
	}
	var pdb policyv1.PodDisruptionBudget
	eventually(t, "PodDisruptionBudget", func() bool { return get(t, ns, "tier-lookupd", &pdb) })
	checkOwner(t, &pdb, l)
	if pdb.Spec.MaxUnavailable.IntValue() != 1 || pdb.Spec.Selector.MatchLabels["app.kubernetes.io/instance"] != "tier" ||
		pdb.Spec.UnhealthyPodEvictionPolicy == nil || *pdb.Spec.UnhealthyPodEvictionPolicy != policyv1.AlwaysAllow {
		t.Errorf("PDB %+v", pdb.Spec)
	}

	eventually(t, "status: addresses, not ready", func() bool {
		return get(t, ns, "tier", l) && l.Status.ConsumerAddresses != nil && l.Status.DaemonAddresses != nil &&
			ready(l.Status.Conditions, l.Generation, metav1.ConditionFalse, controllers.ReasonReplicasNotReady)
	})
	if got := l.Status.ConsumerAddresses.HTTPAddresses; !slices.Equal(got, []string{"tier-lookupd." + ns + ".svc:4161"}) {
		t.Errorf("consumer addresses %v", got)
	}
	if got := l.Status.DaemonAddresses.TCPAddresses; !slices.Equal(got, []string{"tier-lookupd-headless." + ns + ".svc:4160"}) {
		t.Errorf("daemon addresses %v", got)
	}
	eventually(t, "Created events for the owned objects", func() bool {
		notes := notesOf(t, ns, "tier", controllers.EventCreated)
		return slices.Contains(notes, "created Deployment tier-lookupd") &&
			slices.Contains(notes, "created Service tier-lookupd-headless") &&
			slices.Contains(notes, "created PodDisruptionBudget tier-lookupd")
	})
	// Reconciles repeat every 200 ms here; applying an unchanged spec must
	// not write (an apply that fought the API server's defaults would).
	if notes := notesOf(t, ns, "tier", controllers.EventUpdated); len(notes) > 0 {
		t.Errorf("objects rewritten with nothing changed: %q", notes)
	}
}

func TestManagedLookupCorrectsDrift(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, false)
	must(t, k8s.Create(ctx, managedLookup(ns, "tier")))
	var dep appsv1.Deployment
	var headless corev1.Service
	eventually(t, "Deployment and headless Service", func() bool {
		return get(t, ns, "tier-lookupd", &dep) && get(t, ns, "tier-lookupd-headless", &headless)
	})

	// Someone scales the Deployment down and strips the probe; someone else
	// turns off publishNotReadyAddresses.
	dep.Spec.Replicas = ptr.To[int32](1)
	dep.Spec.Template.Spec.Containers[0].ReadinessProbe = nil
	must(t, k8s.Update(ctx, &dep, client.FieldOwner("someone")))
	headless.Spec.PublishNotReadyAddresses = false
	must(t, k8s.Update(ctx, &headless, client.FieldOwner("someone")))
	eventually(t, "the declared spec back", func() bool {
		return get(t, ns, "tier-lookupd", &dep) && *dep.Spec.Replicas == 3 &&
			dep.Spec.Template.Spec.Containers[0].ReadinessProbe != nil &&
			get(t, ns, "tier-lookupd-headless", &headless) && headless.Spec.PublishNotReadyAddresses
	})
	eventually(t, "an Updated event", func() bool {
		return slices.Contains(notesOf(t, ns, "tier", controllers.EventUpdated), "updated Deployment tier-lookupd to the declared spec")
	})

	// A deleted Service comes back.
	must(t, k8s.Delete(ctx, &headless))
	eventually(t, "headless Service recreated", func() bool {
		var s corev1.Service
		return get(t, ns, "tier-lookupd-headless", &s) && s.UID != headless.UID
	})

	// A spec change reaches the Deployment.
	var l v1alpha1.Lookup
	get(t, ns, "tier", &l)
	l.Spec.Replicas = ptr.To[int32](5)
	l.Spec.Image = "example/lookupd:v2"
	must(t, k8s.Update(ctx, &l))
	eventually(t, "replicas 5 and the new image", func() bool {
		return get(t, ns, "tier-lookupd", &dep) && *dep.Spec.Replicas == 5 &&
			dep.Spec.Template.Spec.Containers[0].Image == "example/lookupd:v2"
	})

	// Ready replicas come from the Deployment (no controller-manager here:
	// the test plays its part).
	dep.Status.Replicas, dep.Status.ReadyReplicas = 5, 2
	must(t, k8s.Status().Update(ctx, &dep))
	eventually(t, "Lookup Ready with 2 ready replicas", func() bool {
		return get(t, ns, "tier", &l) && l.Status.ReadyReplicas == 2 &&
			ready(l.Status.Conditions, l.Generation, metav1.ConditionTrue, controllers.ReasonReady)
	})
}

// A Topic of a managed Lookup is registered in every replica the headless
// Service's EndpointSlices list. Here the one replica is a lookupd of the
// test's own on a non-loopback address, which EndpointSlices require.
func TestTopicOfManagedLookup(t *testing.T) {
	ctx := context.Background()
	ip := hostIP(t)
	lo := lookup.NewOptions()
	lo.TCPAddress, lo.HTTPAddress, lo.LogLevel = ip+":0", ip+":0", "error"
	replica, err := lookup.New(lo)
	must(t, err)
	go replica.Main()
	t.Cleanup(replica.Exit)

	ns := namespace(t, false)
	must(t, k8s.Create(ctx, managedLookup(ns, "default")))
	must(t, k8s.Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default-lookupd-headless-x1",
			Labels: map[string]string{
				discoveryv1.LabelServiceName:   "default-lookupd-headless",
				"app.kubernetes.io/managed-by": controllers.FieldOwner,
			}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Serving: ptr.To(true)}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To(int32(replica.HTTPAddr().Port))}},
	}))
	name := ns + "-managed"
	must(t, k8s.Create(ctx, newTopic(ns, name, v1alpha1.DeletionPolicyDelete)))
	topicReady(t, ns, name)
	var topics struct {
		Topics []string `json:"topics"`
	}
	must(t, getJSON("http://"+replica.HTTPAddr().String()+"/topics", &topics))
	if !slices.Contains(topics.Topics, name) {
		t.Fatalf("the replica's /topics %v lacks %s", topics.Topics, name)
	}
}

// hostIP is an IPv4 address of this machine outside the loopback range.
func hostIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	must(t, err)
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String()
		}
	}
	t.Skip("no non-loopback IPv4 address: an EndpointSlice cannot point at loopback")
	return ""
}

func getJSON(url string, out any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}

func checkOwner(t *testing.T, obj client.Object, l *v1alpha1.Lookup) {
	t.Helper()
	refs := obj.GetOwnerReferences()
	if len(refs) != 1 || refs[0].UID != l.UID || refs[0].Kind != "Lookup" || !*refs[0].Controller {
		t.Errorf("%s owner references %+v, want the Lookup %s as controller", obj.GetName(), refs, l.Name)
	}
}

func servicePorts(s *corev1.Service) string {
	var out []string
	for _, p := range s.Spec.Ports {
		out = append(out, p.Name+":"+strconv.Itoa(int(p.Port)))
	}
	return strings.Join(out, ",")
}

// notesOf lists the notes of the events with reason about the object named
// name in ns.
func notesOf(t *testing.T, ns, name, reason string) []string {
	t.Helper()
	var list eventsv1.EventList
	must(t, k8s.List(context.Background(), &list, client.InNamespace(ns)))
	var notes []string
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Reason == reason {
			notes = append(notes, e.Note)
		}
	}
	return notes
}
