package inject

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// Every app and init container learns where the queue is, except where it
// already says so itself; the sidecar's own env is only POD_IP.
func TestAppEnv(t *testing.T) {
	t.Parallel()
	pod := appPod()
	pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "worker",
		Env: []corev1.EnvVar{{Name: "NSQD_TCP_ADDRESS", Value: "nsqd.elsewhere:4150"}}})
	injected(t, pod)
	env := func(c corev1.Container) map[string]string {
		m := map[string]string{}
		for _, e := range c.Env {
			if _, dup := m[e.Name]; dup {
				t.Fatalf("container %s sets %s twice", c.Name, e.Name)
			}
			m[e.Name] = e.Value
		}
		return m
	}
	for _, c := range append(pod.Spec.InitContainers[1:], pod.Spec.Containers...) {
		got, tcp := env(c), "127.0.0.1:4150"
		if c.Name == "worker" {
			tcp = "nsqd.elsewhere:4150"
		}
		if got["NSQD_TCP_ADDRESS"] != tcp || got["NSQD_HTTP_ADDRESS"] != "127.0.0.1:4151" {
			t.Errorf("container %s env %v", c.Name, got)
		}
	}
	if got := env(pod.Spec.Containers[0]); got["MODE"] != "publisher" {
		t.Errorf("the app's own env was lost: %v", got)
	}
	if got := env(*sidecarOf(t, pod)); len(got) != 1 || got["POD_IP"] != "" {
		t.Errorf("sidecar env %v", got)
	}
}

// The grace period is raised to the drain timeout plus 15s, never lowered.
func TestGracePeriod(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		drain      string
		have, want *int64
		unsetStays bool
	}{
		{name: "unset (30s) raised to the default drain", want: new(int64(75))},
		{name: "lower raised", have: new(int64(10)), want: new(int64(75))},
		{name: "higher kept", have: new(int64(600)), want: new(int64(600))},
		{name: "equal kept", have: new(int64(75)), want: new(int64(75))},
		{name: "a short drain leaves unset (30s) alone", drain: "10s", unsetStays: true},
		{name: "a short drain raises what is shorter still", drain: "10s", have: new(int64(20)), want: new(int64(25))},
		{name: "fractions round up", drain: "1m0.1s", want: new(int64(76))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := appPod()
			if tc.drain != "" {
				pod.Annotations[v1alpha1.AnnotationDrainTimeout] = tc.drain
			}
			pod.Spec.TerminationGracePeriodSeconds = tc.have
			injected(t, pod)
			got := pod.Spec.TerminationGracePeriodSeconds
			if tc.unsetStays {
				if got != nil {
					t.Fatalf("grace %d, want unset", *got)
				}
				return
			}
			if got == nil || *got != *tc.want {
				t.Fatalf("grace %v, want %d", got, *tc.want)
			}
		})
	}
}

// A managed Lookup is reached through its headless Service, in its own
// namespace; an external one through every address it lists.
func TestLookupAddresses(t *testing.T) {
	t.Parallel()
	lookupdArgs := func(c *corev1.Container) []string {
		return slices.DeleteFunc(slices.Clone(c.Args), func(a string) bool {
			name, _ := flagName(a)
			return name != "lookupd-tcp-address"
		})
	}
	pod := injectedWith(t, appPod(v1alpha1.AnnotationLookup, "orders"), managedLookup("orders"))
	if got := lookupdArgs(sidecarOf(t, pod)); !slices.Equal(got, []string{"--lookupd-tcp-address=orders-lookupd-headless.shop.svc:4160"}) {
		t.Fatalf("managed: %q", got)
	}
	pod = injectedWith(t, appPod(v1alpha1.AnnotationLookup, "legacy"), externalLookup("nsqlookupd-0.nsq:4160", "10.0.0.7:4160"))
	c := sidecarOf(t, pod)
	if got := lookupdArgs(c); !slices.Equal(got, []string{"--lookupd-tcp-address=nsqlookupd-0.nsq:4160", "--lookupd-tcp-address=10.0.0.7:4160"}) {
		t.Fatalf("external: %q", got)
	}
	if o := queuedOptions(t, c); !slices.Equal(o.LookupdTCPAddresses, []string{"nsqlookupd-0.nsq:4160", "10.0.0.7:4160"}) {
		t.Fatalf("queued registers with %q", o.LookupdTCPAddresses)
	}
}

// The status annotation records what was added, and the label marks the pod.
func TestStatusAnnotation(t *testing.T) {
	t.Parallel()
	pod := injected(t, appPod(v1alpha1.AnnotationStorage, "emptyDir", v1alpha1.AnnotationNativeSidecar, "false"))
	want := `{"image":"sidequeue:test","args":["--data-path=/var/lib/sidequeue","--tcp-address=0.0.0.0:4150",` +
		`"--http-address=0.0.0.0:4151","--broadcast-address=$(POD_IP)",` +
		`"--lookupd-tcp-address=default-lookupd-headless.shop.svc:4160","--mem-queue-size=0","--drain-timeout=60s",` +
		`"--termination-log=/dev/termination-log"],"volume":"emptyDir","native":false}`
	if got := pod.Annotations[v1alpha1.AnnotationStatus]; got != want {
		t.Fatalf("status\n%s\nwant\n%s", got, want)
	}
	if st := statusOf(t, pod); !slices.Equal(st.Args, sidecarOf(t, pod).Args) {
		t.Fatalf("status args %q differ from the sidecar's", st.Args)
	}
	if pod.Labels[v1alpha1.LabelInjected] != "true" || pod.Annotations[v1alpha1.InjectKey] != "true" {
		t.Fatalf("labels %v annotations %v", pod.Labels, pod.Annotations)
	}
}

// The pod's own choices stay: its fsGroup, and the container kubectl picks.
func TestPodSettingsKept(t *testing.T) {
	t.Parallel()
	pod := appPod(v1alpha1.AnnotationNativeSidecar, "false", defaultContainerAnnotation, "migrate-ui")
	pod.Spec.SecurityContext = &corev1.PodSecurityContext{FSGroup: new(int64(2000))}
	injected(t, pod)
	if *pod.Spec.SecurityContext.FSGroup != 2000 || statusOf(t, pod).FSGroup != nil {
		t.Fatalf("fsGroup %d, status %+v", *pod.Spec.SecurityContext.FSGroup, statusOf(t, pod))
	}
	if got := pod.Annotations[defaultContainerAnnotation]; got != "migrate-ui" {
		t.Fatalf("default container %q", got)
	}
	if pod.Spec.Containers[0].Name != v1alpha1.SidecarContainerName || pod.Spec.Containers[1].Name != "app" ||
		len(pod.Spec.InitContainers) != 1 {
		t.Fatalf("containers %v", pod.Spec.Containers)
	}
}

// The backlog finalizer goes on pods whose log is a PVC, the volume the
// operator can hand off, unless the pod opts out; a finalizer the pod
// already carries is kept, and ours is not added twice.
func TestBacklogFinalizer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		annotations []string
		finalizers  []string
		want        []string
	}{
		{"pvc", nil, nil, []string{v1alpha1.FinalizerBacklog}},
		{"pvc keeps the pod's own", nil, []string{"example.com/keep"}, []string{"example.com/keep", v1alpha1.FinalizerBacklog}},
		{"pvc already has it", nil, []string{v1alpha1.FinalizerBacklog}, []string{v1alpha1.FinalizerBacklog}},
		{"emptyDir", []string{v1alpha1.AnnotationStorage, "emptyDir"}, nil, nil},
		{"skip-handoff", []string{v1alpha1.AnnotationSkipHandoff, "true"}, nil, nil},
		{"skip-handoff false", []string{v1alpha1.AnnotationSkipHandoff, "false"}, nil, []string{v1alpha1.FinalizerBacklog}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := appPod(tc.annotations...)
			pod.Finalizers = tc.finalizers
			if got := injected(t, pod).Finalizers; !slices.Equal(got, tc.want) {
				t.Errorf("finalizers %v, want %v", got, tc.want)
			}
		})
	}
}
