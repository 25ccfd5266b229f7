package inject

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// Who is injected: the annotation in an opted-in namespace, the label
// anywhere; nothing else, and then the pod is left as it was.
func TestOptIn(t *testing.T) {
	t.Parallel()
	labelled := func(value string) *corev1.Pod {
		pod := appPod()
		delete(pod.Annotations, v1alpha1.InjectKey)
		pod.Labels = map[string]string{v1alpha1.InjectKey: value}
		return pod
	}
	annotated := func(value string) *corev1.Pod { return appPod(v1alpha1.InjectKey, value) }
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		ns   *corev1.Namespace
		want Outcome
	}{
		{"annotation in an opted-in namespace", annotated("true"), optedIn(), Injected},
		{"label in a plain namespace", labelled("true"), plainNamespace(), Injected},
		{"label in an opted-in namespace", labelled("true"), optedIn(), Injected},
		{"label without a namespace object", labelled("true"), nil, Injected},
		{"annotation in a plain namespace", annotated("true"), plainNamespace(), NotRequested},
		{"annotation false", annotated("false"), optedIn(), NotRequested},
		{"label false", labelled("false"), plainNamespace(), NotRequested},
		{"neither", &corev1.Pod{}, optedIn(), NotRequested},
		// A pod that does not ask is not read: its annotations may be anything.
		{"not asking, bad annotations", appPod(v1alpha1.InjectKey, "no", "sidequeue.io/nonsense", "x"), optedIn(), NotRequested},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.pod.DeepCopy()
			outcome, err := Pod(tc.pod, tc.ns, managedLookup("default"), testConfig)
			if err != nil || outcome != tc.want {
				t.Fatalf("outcome %q, error %v; want %q", outcome, err, tc.want)
			}
			if tc.want == NotRequested && !equality.Semantic.DeepEqual(before, tc.pod) {
				t.Fatalf("a pod that did not ask was changed")
			}
		})
	}
}

// Reinvocation, or a pod made from an injected pod's spec: exactly one
// sidecar, and the pod comes back as it went in.
func TestIdempotent(t *testing.T) {
	t.Parallel()
	for _, native := range []string{"true", "false"} {
		t.Run("native-sidecar "+native, func(t *testing.T) {
			once := injected(t, appPod(v1alpha1.AnnotationNativeSidecar, native))
			twice := once.DeepCopy()
			outcome, err := Pod(twice, optedIn(), managedLookup("default"), testConfig)
			if err != nil || outcome != AlreadyInjected {
				t.Fatalf("outcome %q, error %v", outcome, err)
			}
			if !equality.Semantic.DeepEqual(once, twice) {
				t.Fatalf("injecting twice changed the pod")
			}
		})
	}
	// Even a pod whose sidecar was written by hand, and which would
	// otherwise be refused, is left alone.
	pod := appPod("sidequeue.io/drain-timout", "1m")
	pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: v1alpha1.SidecarContainerName})
	before := pod.DeepCopy()
	if outcome, err := Pod(pod, optedIn(), nil, testConfig); err != nil || outcome != AlreadyInjected ||
		!equality.Semantic.DeepEqual(before, pod) {
		t.Fatalf("outcome %q, error %v, changed %v", outcome, err, !equality.Semantic.DeepEqual(before, pod))
	}
}

// Pods from a ReplicaSet have no name yet at admission.
func TestGenerateName(t *testing.T) {
	t.Parallel()
	pod := appPod()
	pod.Name, pod.GenerateName, pod.Namespace = "", "publisher-7d9f8-", ""
	injected(t, pod)
	sidecarOf(t, pod)
	if pod.Spec.Volumes[0].Ephemeral == nil || pod.Labels[v1alpha1.LabelInjected] != "true" {
		t.Fatalf("volumes %+v, labels %v", pod.Spec.Volumes, pod.Labels)
	}
	// The namespace comes from the namespace object when the pod has none.
	if want := "--lookupd-tcp-address=default-lookupd-headless.shop.svc:4160"; !slices.Contains(sidecarOf(t, pod).Args, want) {
		t.Fatalf("args %q lack %s", sidecarOf(t, pod).Args, want)
	}
}

// The sidecar of a pod that only asks, whole: DESIGN.md's defaults.
func TestDefaultSidecar(t *testing.T) {
	t.Parallel()
	pod := injected(t, appPod())
	if len(pod.Spec.InitContainers) != 2 || pod.Spec.InitContainers[1].Name != "migrate" || len(pod.Spec.Containers) != 1 {
		t.Fatalf("containers: init %d, app %d", len(pod.Spec.InitContainers), len(pod.Spec.Containers))
	}
	ping := func(period, failures int32) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: "/ping", Port: intstr.FromInt32(4151), Scheme: corev1.URISchemeHTTP}},
			PeriodSeconds: period, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: failures}
	}
	want := corev1.Container{
		Name: "sidequeue", Image: "sidequeue:test", ImagePullPolicy: corev1.PullIfNotPresent,
		Command: []string{"queued"},
		Args: []string{"--data-path=/var/lib/sidequeue", "--tcp-address=0.0.0.0:4150", "--http-address=0.0.0.0:4151",
			"--broadcast-address=$(POD_IP)", "--lookupd-tcp-address=default-lookupd-headless.shop.svc:4160",
			"--mem-queue-size=0", "--drain-timeout=60s", "--termination-log=/dev/termination-log"},
		Env: []corev1.EnvVar{{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"}}}},
		Ports: []corev1.ContainerPort{
			{Name: "sidequeue-tcp", ContainerPort: 4150, Protocol: corev1.ProtocolTCP},
			{Name: "sidequeue-http", ContainerPort: 4151, Protocol: corev1.ProtocolTCP}},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("256Mi")}},
		VolumeMounts:           []corev1.VolumeMount{{Name: "sidequeue-data", MountPath: "/var/lib/sidequeue"}},
		StartupProbe:           ping(1, 60),
		ReadinessProbe:         ping(5, 3),
		RestartPolicy:          new(corev1.ContainerRestartPolicyAlways),
		TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		SecurityContext: &corev1.SecurityContext{
			RunAsNonRoot: new(true), RunAsUser: new(int64(65532)), RunAsGroup: new(int64(65532)),
			Privileged: new(false), AllowPrivilegeEscalation: new(false), ReadOnlyRootFilesystem: new(true),
			Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
	}
	if got := pod.Spec.InitContainers[0]; !equality.Semantic.DeepEqual(got, want) {
		t.Fatalf("sidecar\n%+v\nwant\n%+v", got, want)
	}
	if *pod.Spec.TerminationGracePeriodSeconds != 75 || *pod.Spec.SecurityContext.FSGroup != 65532 {
		t.Fatalf("grace %d, fsGroup %d", *pod.Spec.TerminationGracePeriodSeconds, *pod.Spec.SecurityContext.FSGroup)
	}
	if o := queuedOptions(t, &want); o.MemQueueSize != 0 || o.DataPath != "/var/lib/sidequeue" || o.TerminationLog != "/dev/termination-log" {
		t.Fatalf("queued reads %+v", o)
	}
}
