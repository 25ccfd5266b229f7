package inject

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// Every refusal: the field at fault, the reason, and a message that says
// what is wrong and how to fix it. The pod is never touched.
func TestRefusals(t *testing.T) {
	t.Parallel()
	a := func(kv ...string) *corev1.Pod { return appPod(kv...) }
	for _, tc := range []struct {
		name   string
		pod    *corev1.Pod
		lookup *v1alpha1.Lookup // managedLookup("default") when nil and !noLookup
		noLook bool
		cfg    *Config
		field  string
		reason string
		says   []string // in the message
	}{
		{name: "storage-size not a quantity", pod: a(v1alpha1.AnnotationStorageSize, "1Gx"),
			field: v1alpha1.AnnotationStorageSize, reason: ReasonInvalidAnnotation,
			says: []string{`sidequeue.io/storage-size "1Gx" is not a quantity: use a size such as 1Gi or 512Mi`}},
		{name: "storage-size zero", pod: a(v1alpha1.AnnotationStorageSize, "0"),
			field: v1alpha1.AnnotationStorageSize, reason: ReasonInvalidAnnotation, says: []string{"not more than zero", "1Gi"}},
		{name: "drain-timeout not a duration", pod: a(v1alpha1.AnnotationDrainTimeout, "5 minutes"),
			field: v1alpha1.AnnotationDrainTimeout, reason: ReasonInvalidAnnotation, says: []string{`"5 minutes" is not a positive duration`, "60s"}},
		{name: "drain-timeout zero", pod: a(v1alpha1.AnnotationDrainTimeout, "0s"),
			field: v1alpha1.AnnotationDrainTimeout, reason: ReasonInvalidAnnotation, says: []string{"positive duration"}},
		{name: "durability unknown", pod: a(v1alpha1.AnnotationDurability, "safe"),
			field: v1alpha1.AnnotationDurability, reason: ReasonInvalidAnnotation, says: []string{"not a durability preset", "disk", "fsync", "memory"}},
		{name: "storage unknown", pod: a(v1alpha1.AnnotationStorage, "hostPath"),
			field: v1alpha1.AnnotationStorage, reason: ReasonInvalidAnnotation, says: []string{"pvc", "emptyDir"}},
		{name: "storage-class with emptyDir", pod: a(v1alpha1.AnnotationStorage, "emptyDir", v1alpha1.AnnotationStorageClass, "fast"),
			field: v1alpha1.AnnotationStorageClass, reason: ReasonInvalidAnnotation, says: []string{"applies to a PVC", "remove sidequeue.io/storage-class"}},
		{name: "storage-class not a name", pod: a(v1alpha1.AnnotationStorageClass, "Fast SSD"),
			field: v1alpha1.AnnotationStorageClass, reason: ReasonInvalidAnnotation, says: []string{"kubectl get storageclass"}},
		{name: "native-sidecar not a bool", pod: a(v1alpha1.AnnotationNativeSidecar, "no"),
			field: v1alpha1.AnnotationNativeSidecar, reason: ReasonInvalidAnnotation, says: []string{`use "true" or "false"`}},
		{name: "skip-handoff not a bool", pod: a(v1alpha1.AnnotationSkipHandoff, "yes"),
			field: v1alpha1.AnnotationSkipHandoff, reason: ReasonInvalidAnnotation, says: []string{`use "true" or "false"`}},
		{name: "image empty", pod: a(v1alpha1.AnnotationImage, ""),
			field: v1alpha1.AnnotationImage, reason: ReasonInvalidAnnotation, says: []string{"remove the annotation for the manager's default"}},
		{name: "lookup not a name", pod: a(v1alpha1.AnnotationLookup, "Orders_1"),
			field: v1alpha1.AnnotationLookup, reason: ReasonInvalidAnnotation, says: []string{"not a Lookup name"}},
		{name: "cpu-request not a quantity", pod: a(v1alpha1.AnnotationCPURequest, "fast"),
			field: v1alpha1.AnnotationCPURequest, reason: ReasonInvalidAnnotation, says: []string{"100m"}},
		{name: "memory-limit not a quantity", pod: a(v1alpha1.AnnotationMemoryLimit, "1GB?"),
			field: v1alpha1.AnnotationMemoryLimit, reason: ReasonInvalidAnnotation, says: []string{"128Mi"}},
		{name: "cpu request above the default limit", pod: a(v1alpha1.AnnotationCPURequest, "2"),
			field: v1alpha1.AnnotationCPURequest, reason: ReasonInvalidResources, says: []string{"cpu request 2 is above its limit 1", "raise sidequeue.io/cpu-limit"}},
		{name: "memory limit below the default request", pod: a(v1alpha1.AnnotationMemoryLimit, "32Mi"),
			field: v1alpha1.AnnotationMemoryLimit, reason: ReasonInvalidResources, says: []string{"memory request 64Mi is above its limit 32Mi"}},
		{name: "misspelt annotation", pod: a("sidequeue.io/drain-timout", "30s"),
			field: "sidequeue.io/drain-timout", reason: ReasonUnknownAnnotation, says: []string{"did you mean sidequeue.io/drain-timeout?"}},
		{name: "misspelt in capitals", pod: a("sidequeue.io/Storage-Size", "2Gi"),
			field: "sidequeue.io/Storage-Size", reason: ReasonUnknownAnnotation, says: []string{"did you mean sidequeue.io/storage-size?"}},
		{name: "unknown annotation", pod: a("sidequeue.io/replicas", "3"),
			field: "sidequeue.io/replicas", reason: ReasonUnknownAnnotation, says: []string{"use one of", "sidequeue.io/drain-timeout"}},
		{name: "queued-flags unknown flag", pod: a(v1alpha1.AnnotationQueuedFlags, "--msg-timeout=90s --no-such-flag"),
			field: v1alpha1.AnnotationQueuedFlags, reason: ReasonInvalidQueuedFlags, says: []string{"sidecar would not run", "no-such-flag", "fix or remove"}},
		{name: "queued-flags bad value", pod: a(v1alpha1.AnnotationQueuedFlags, "--msg-timeout=forever"),
			field: v1alpha1.AnnotationQueuedFlags, reason: ReasonInvalidQueuedFlags, says: []string{"msg-timeout", "forever"}},
		{name: "queued-flags bad value under memory", pod: a(v1alpha1.AnnotationDurability, "memory", v1alpha1.AnnotationQueuedFlags, "--mem-queue-size=lots"),
			field: v1alpha1.AnnotationQueuedFlags, reason: ReasonInvalidQueuedFlags, says: []string{"mem-queue-size"}},
		{name: "queued-flags not a flag", pod: a(v1alpha1.AnnotationQueuedFlags, "--log-level=debug extra"),
			field: v1alpha1.AnnotationQueuedFlags, reason: ReasonInvalidQueuedFlags, says: []string{`unexpected argument "extra"`}},
		{name: "queued-flags unclosed quote", pod: a(v1alpha1.AnnotationQueuedFlags, "--log-level='debug"),
			field: v1alpha1.AnnotationQueuedFlags, reason: ReasonInvalidQueuedFlags, says: []string{"not closed", "quote values as a shell would"}},
		{name: "queued-flags sets the data path", pod: a(v1alpha1.AnnotationQueuedFlags, "--data-path=/tmp"),
			field: v1alpha1.AnnotationQueuedFlags, reason: ReasonInvalidQueuedFlags, says: []string{"may not set --data-path", "sidequeue.io/storage"}},
		{name: "queued-flags sets the TCP address", pod: a(v1alpha1.AnnotationQueuedFlags, "-tcp-address 0.0.0.0:5150"),
			field: v1alpha1.AnnotationQueuedFlags, reason: ReasonInvalidQueuedFlags, says: []string{"may not set --tcp-address", "4150"}},
		{name: "queued-flags sets the HTTP address", pod: a(v1alpha1.AnnotationQueuedFlags, "--http-address=:80"),
			field: v1alpha1.AnnotationQueuedFlags, reason: ReasonInvalidQueuedFlags, says: []string{"may not set --http-address"}},
		{name: "queued-flags sets the broadcast address", pod: a(v1alpha1.AnnotationQueuedFlags, "--broadcast-address=me"),
			field: v1alpha1.AnnotationQueuedFlags, reason: ReasonInvalidQueuedFlags, says: []string{"may not set --broadcast-address", "pod's IP"}},
		{name: "queued-flags sets a lookupd", pod: a(v1alpha1.AnnotationQueuedFlags, "--lookupd-tcp-address=x:4160"),
			field: v1alpha1.AnnotationQueuedFlags, reason: ReasonInvalidQueuedFlags, says: []string{"may not set --lookupd-tcp-address", "use sidequeue.io/lookup"}},
		{name: "queued-flags sets the drain timeout", pod: a(v1alpha1.AnnotationQueuedFlags, "--drain-timeout=5m"),
			field: v1alpha1.AnnotationQueuedFlags, reason: ReasonInvalidQueuedFlags, says: []string{"use sidequeue.io/drain-timeout"}},
		{name: "queued-flags sets the termination log", pod: a(v1alpha1.AnnotationQueuedFlags, "--termination-log=/tmp/x"),
			field: v1alpha1.AnnotationQueuedFlags, reason: ReasonInvalidQueuedFlags, says: []string{"may not set --termination-log"}},
		{name: "queued-flags undoes the disk preset", pod: a(v1alpha1.AnnotationQueuedFlags, "--mem-queue-size=100"),
			field: v1alpha1.AnnotationQueuedFlags, reason: ReasonInvalidQueuedFlags, says: []string{"preset disk", "sidequeue.io/durability: memory"}},
		{name: "queued-flags undoes the fsync preset", pod: a(v1alpha1.AnnotationDurability, "fsync", v1alpha1.AnnotationQueuedFlags, "--sync-every=100"),
			field: v1alpha1.AnnotationQueuedFlags, reason: ReasonInvalidQueuedFlags, says: []string{"preset fsync", "sidequeue.io/durability: disk"}},
		{name: "queued-flags reads a config file", pod: a(v1alpha1.AnnotationQueuedFlags, "--config=/etc/nsqd.cfg"),
			field: v1alpha1.AnnotationQueuedFlags, reason: ReasonInvalidQueuedFlags, says: []string{"cannot read a file inside the pod"}},
		{name: "queued-flags exits at once", pod: a(v1alpha1.AnnotationQueuedFlags, "--version"),
			field: v1alpha1.AnnotationQueuedFlags, reason: ReasonInvalidQueuedFlags, says: []string{"restart for ever"}},
		{name: "queued-flags drain only", pod: a(v1alpha1.AnnotationQueuedFlags, "--drain-only"),
			field: v1alpha1.AnnotationQueuedFlags, reason: ReasonInvalidQueuedFlags, says: []string{"must accept publishes"}},
		{name: "the manager's queued disagrees", pod: a(), cfg: &Config{Image: "old", ValidateFlags: func([]string) error {
			return errors.New("flag provided but not defined: -drain-timeout")
		}}, field: v1alpha1.AnnotationQueuedFlags, reason: ReasonInvalidQueuedFlags, says: []string{"the sidecar image old disagree"}},
		{name: "no Lookup", pod: a(), noLook: true, field: v1alpha1.AnnotationLookup, reason: ReasonLookupNotFound,
			says: []string{`Lookup "default" does not exist in namespace "shop"`, "create it", "spec.external", "set sidequeue.io/lookup"}},
		{name: "no such Lookup", pod: a(v1alpha1.AnnotationLookup, "orders"), noLook: true, field: v1alpha1.AnnotationLookup,
			reason: ReasonLookupNotFound, says: []string{`Lookup "orders" does not exist`}},
		{name: "external Lookup without addresses", pod: a(), lookup: externalLookup(), field: v1alpha1.AnnotationLookup,
			reason: ReasonInvalidLookup, says: []string{"add the lookupd TCP addresses"}},
		{name: "hostNetwork", pod: withSpec(a(), func(s *corev1.PodSpec) { s.HostNetwork = true }), field: "spec.hostNetwork",
			reason: ReasonHostNetwork, says: []string{"drop hostNetwork"}},
		{name: "the sidecar's volume name taken", pod: withSpec(a(), func(s *corev1.PodSpec) {
			s.Volumes = []corev1.Volume{{Name: "cache"}, {Name: v1alpha1.SidecarVolumeName}}
		}), field: "spec.volumes[1].name", reason: ReasonConflict, says: []string{"rename the pod's volume"}},
		{name: "the sidecar's port taken", pod: withSpec(a(), func(s *corev1.PodSpec) {
			s.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 8080}, {ContainerPort: 4151}}
		}), field: "spec.containers[0].ports[1].containerPort", reason: ReasonConflict, says: []string{`"app" listens on 4151`, "move it"}},
		{name: "no image anywhere", pod: a(), cfg: &Config{}, field: v1alpha1.AnnotationImage, reason: ReasonNoImage,
			says: []string{"--sidecar-image"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, lookup := testConfig, tc.lookup
			if tc.cfg != nil {
				cfg = *tc.cfg
			}
			if lookup == nil && !tc.noLook {
				lookup = managedLookup(LookupName(tc.pod))
			}
			before := tc.pod.DeepCopy()
			outcome, err := Pod(tc.pod, optedIn(), lookup, cfg)
			var r *Refusal
			if !errors.As(err, &r) {
				t.Fatalf("outcome %q, error %v: want a refusal", outcome, err)
			}
			if r.Field != tc.field || r.Reason != tc.reason {
				t.Fatalf("field %q reason %q; want %q %q (%s)", r.Field, r.Reason, tc.field, tc.reason, r.Message)
			}
			for _, s := range tc.says {
				if !strings.Contains(r.Message, s) {
					t.Errorf("message %q does not say %q", r.Message, s)
				}
			}
			if !equality.Semantic.DeepEqual(before, tc.pod) {
				t.Fatalf("a refused pod was changed")
			}
		})
	}
}

func withSpec(pod *corev1.Pod, change func(*corev1.PodSpec)) *corev1.Pod {
	change(&pod.Spec)
	return pod
}
