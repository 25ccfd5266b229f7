package inject

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/sidecar/queued"
)

// The tests validate flags with queued's real parser, so a pod they see
// injected carries arguments that queued starts with.
var testConfig = Config{
	Image: "sidequeue:test",
	ValidateFlags: func(args []string) error {
		_, _, err := queued.ParseFlags(args)
		return err
	},
}

// appPod asks for injection by annotation (in optedIn) and has an init
// container and an app container of its own.
func appPod(annotations ...string) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "publisher", Namespace: "shop",
			Annotations: map[string]string{v1alpha1.InjectKey: "true"}},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "migrate", Image: "app:1"}},
			Containers: []corev1.Container{{Name: "app", Image: "app:1",
				Env: []corev1.EnvVar{{Name: "MODE", Value: "publisher"}}}},
		},
	}
	for i := 0; i+1 < len(annotations); i += 2 {
		pod.Annotations[annotations[i]] = annotations[i+1]
	}
	return pod
}

func optedIn() *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop",
		Labels: map[string]string{v1alpha1.NamespaceInjectionLabel: v1alpha1.NamespaceInjectionEnabled}}}
}

func plainNamespace() *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}
}

func managedLookup(name string) *v1alpha1.Lookup {
	return &v1alpha1.Lookup{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
		Spec: v1alpha1.LookupSpec{Replicas: new(int32(2))}}
}

func externalLookup(tcp ...string) *v1alpha1.Lookup {
	return &v1alpha1.Lookup{ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: "shop"},
		Spec: v1alpha1.LookupSpec{External: &v1alpha1.ExternalLookup{
			TCPAddresses: tcp, HTTPAddresses: []string{"nsqlookupd:4161"}}}}
}

// injected injects pod into optedIn with the default managed Lookup and
// fails the test unless it was injected.
func injected(t *testing.T, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	return injectedWith(t, pod, managedLookup(LookupName(pod)))
}

func injectedWith(t *testing.T, pod *corev1.Pod, lookup *v1alpha1.Lookup) *corev1.Pod {
	t.Helper()
	outcome, err := Pod(pod, optedIn(), lookup, testConfig)
	if err != nil || outcome != Injected {
		t.Fatalf("outcome %q, error %v", outcome, err)
	}
	return pod
}

// sidecarOf finds the sidecar wherever it was put.
func sidecarOf(t *testing.T, pod *corev1.Pod) *corev1.Container {
	t.Helper()
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			if list[i].Name == v1alpha1.SidecarContainerName {
				return &list[i]
			}
		}
	}
	t.Fatal("no sidecar container")
	return nil
}

func statusOf(t *testing.T, pod *corev1.Pod) Status {
	t.Helper()
	var s Status
	if err := json.Unmarshal([]byte(pod.Annotations[v1alpha1.AnnotationStatus]), &s); err != nil {
		t.Fatalf("status annotation %q: %v", pod.Annotations[v1alpha1.AnnotationStatus], err)
	}
	return s
}

// queuedOptions is what queued makes of the sidecar's arguments.
func queuedOptions(t *testing.T, c *corev1.Container) *queued.Options {
	t.Helper()
	o, _, err := queued.ParseFlags(c.Args)
	if err != nil {
		t.Fatalf("queued refuses %q: %v", c.Args, err)
	}
	return o
}
