//go:build e2e

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/test/e2e/msgs"
)

// The apps of test/e2e/cmd in pods: each serves GET /stats on appPort,
// read through the API server's pod proxy (no port-forward, no Service).
const (
	appPort  = 8080
	appLabel = "e2e.sidequeue.io/app" // the apps' own label, selecting their pods
)

// publisher is how a scenario wants its publisher run.
type publisher struct {
	name string
	// count: publish this many, then idle; 0: until stopped, at rate/s.
	count, rate int
	// inject asks for the sidecar, with annotations besides.
	inject      bool
	annotations map[string]string
}

// args are the publisher's flags: the daemon from $NSQD_TCP_ADDRESS, which
// injection sets; -linger so a pod that is going waits (within its grace
// period, before the sidecar's drain starts) until its final numbers are
// read.
func (p publisher) args(m messaging) []string {
	return []string{"publisher", "-topic=" + m.topic, "-count=" + strconv.Itoa(p.count),
		"-rate=" + strconv.Itoa(p.rate), "-linger=20s", "-http-address=:" + strconv.Itoa(appPort)}
}

// podTemplate is the publisher's pod: the app container only; the
// webhook adds the rest.
func (h *harness) publisherPod(m messaging, p publisher) corev1.PodTemplateSpec {
	ann := map[string]string{}
	for k, v := range p.annotations {
		ann[k] = v
	}
	if p.inject {
		ann[v1alpha1.InjectKey] = "true"
	}
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{appLabel: p.name}, Annotations: ann},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{h.appContainer("publisher", p.args(m))}},
	}
}

// appContainer runs the apps' image with the restricted securityContext,
// so the same pods run in a namespace enforcing it.
func (h *harness) appContainer(name string, args []string) corev1.Container {
	return corev1.Container{
		Name: name, Image: h.appImage, ImagePullPolicy: corev1.PullNever, Command: args,
		Env: []corev1.EnvVar{{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
		Ports: []corev1.ContainerPort{{Name: "stats", ContainerPort: appPort}},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
		},
		SecurityContext: &corev1.SecurityContext{
			RunAsNonRoot: ptr.To(true), AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
			Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
}

// deployPublisher creates the publisher as a Deployment of replicas.
func (h *harness) deployPublisher(t testing.TB, m messaging, p publisher, replicas int32) *appsv1.Deployment {
	t.Helper()
	d := deployment(m.ns, p.name, replicas, h.publisherPod(m, p))
	must(t, h.k8s.Create(ctx(t), d))
	return d
}

// runPublisherPod creates the publisher as a bare pod: deleted, it is not
// replaced, which the backlog scenarios need.
func (h *harness) runPublisherPod(t testing.TB, m messaging, p publisher) *corev1.Pod {
	t.Helper()
	tmpl := h.publisherPod(m, p)
	pod := &corev1.Pod{ObjectMeta: tmpl.ObjectMeta, Spec: tmpl.Spec}
	pod.Namespace, pod.Name = m.ns, p.name
	must(t, h.k8s.Create(ctx(t), pod))
	return pod
}

// deployConsumer creates a consumer Deployment of one replica that finds
// the daemons through the Lookup's Service.
func (h *harness) deployConsumer(t testing.TB, m messaging, name string) *appsv1.Deployment {
	t.Helper()
	args := []string{"consumer", "-lookupd-http-address=" + m.lookupHTTP, "-topic=" + m.topic,
		"-channel=" + m.channel, "-http-address=:" + strconv.Itoa(appPort)}
	tmpl := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{appLabel: name}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{h.appContainer("consumer", args)}},
	}
	d := deployment(m.ns, name, 1, tmpl)
	must(t, h.k8s.Create(ctx(t), d))
	return d
}

func deployment(ns, name string, replicas int32, tmpl corev1.PodTemplateSpec) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{appLabel: name}},
			Template: tmpl,
		},
	}
}

// appPods are the pods of an app (by appLabel), terminating ones included.
func (h *harness) appPods(ctx context.Context, ns, app string) ([]corev1.Pod, error) {
	var pods corev1.PodList
	err := h.k8s.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels{appLabel: app})
	return pods.Items, err
}

// waitAppPod waits for one running, ready pod of app and returns it.
func (h *harness) waitAppPod(t testing.TB, ns, app string) corev1.Pod {
	t.Helper()
	var found corev1.Pod
	eventually(t, medium, app+" pod running and ready", func(ctx context.Context) (bool, error) {
		pods, err := h.appPods(ctx, ns, app)
		for _, p := range pods {
			if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && podReady(&p) {
				found = p
				return true, nil
			}
		}
		return false, fmt.Errorf("%d pods (%v)", len(pods), err)
	})
	return found
}

// stats reads an app pod's GET /stats into v through the pod proxy.
func (h *harness) stats(ctx context.Context, ns, pod string, v any) error {
	b, err := h.cs.CoreV1().Pods(ns).ProxyGet("http", pod, strconv.Itoa(appPort), "/stats", nil).DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("GET %s/%s:/stats: %w", ns, pod, err)
	}
	return json.Unmarshal(b, v)
}

// waitPublished waits until the publisher pod says it is done (its count
// reached) and returns its final numbers.
func (h *harness) waitPublished(t testing.TB, ns, pod string) msgs.PublisherStats {
	t.Helper()
	var s msgs.PublisherStats
	eventually(t, medium, "publisher "+pod+" done", func(ctx context.Context) (bool, error) {
		err := h.stats(ctx, ns, pod, &s)
		return err == nil && s.Done, err
	})
	return s
}

// waitReceived waits until the consumer pod has received every message
// that each publisher acknowledged, and returns its numbers.
func (h *harness) waitReceived(t testing.TB, ns, consumer string, pubs ...msgs.PublisherStats) msgs.ConsumerStats {
	t.Helper()
	var c msgs.ConsumerStats
	eventually(t, long, "every acknowledged message at "+consumer, func(ctx context.Context) (bool, error) {
		if err := h.stats(ctx, ns, consumer, &c); err != nil {
			return false, err
		}
		for _, p := range pubs {
			if m := msgs.Missing(p, c); m.Len() > 0 {
				return false, fmt.Errorf("%s: %d of %d acknowledged not yet received (%s)", p.Source, m.Len(), p.Acked, abbrev(m.String()))
			}
		}
		return true, nil
	})
	for _, p := range pubs {
		t.Logf("%s: %d acknowledged, %d failed; consumer: all received (%d distinct in all, %d duplicates)",
			p.Source, p.Acked, p.Failed, c.Distinct, c.Duplicates)
	}
	return c
}

// abbrev cuts a long set of IDs for a log line.
func abbrev(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// consumeAll deploys the consumer "cons" in m's namespace and waits until it
// has received every message the publishers acknowledged.
func (h *harness) consumeAll(t testing.TB, m messaging, pubs ...msgs.PublisherStats) msgs.ConsumerStats {
	t.Helper()
	h.deployConsumer(t, m, "cons")
	cons := h.waitAppPod(t, m.ns, "cons")
	return h.waitReceived(t, m.ns, cons.Name, pubs...)
}

// injectedRoundTrip runs a consumer, then an injected publisher of count
// messages, checks the publisher's pod got its sidecar, and waits until the
// consumer has received every acknowledged message.
func (h *harness) injectedRoundTrip(t testing.TB, m messaging, count int) {
	t.Helper()
	h.deployConsumer(t, m, "cons")
	h.deployPublisher(t, m, publisher{name: "pub", count: count, inject: true}, 1)
	pod := h.waitAppPod(t, m.ns, "pub")
	checkInjected(t, &pod)
	s := h.waitPublished(t, m.ns, pod.Name)
	cons := h.waitAppPod(t, m.ns, "cons")
	h.waitReceived(t, m.ns, cons.Name, s)
}
