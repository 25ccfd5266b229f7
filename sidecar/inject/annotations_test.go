package inject

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// Every annotation: its default (no annotation) and an override, read back
// from the injected pod and, for flags, from what queued makes of them.
func TestAnnotations(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		annotations []string
		check       func(t *testing.T, pod *corev1.Pod, c *corev1.Container)
	}{
		{"lookup default", nil, wantArg("--lookupd-tcp-address=default-lookupd-headless.shop.svc:4160")},
		{"lookup", []string{v1alpha1.AnnotationLookup, "orders"}, wantArg("--lookupd-tcp-address=orders-lookupd-headless.shop.svc:4160")},
		{"drain-timeout default", nil, func(t *testing.T, pod *corev1.Pod, c *corev1.Container) {
			wantDrain(t, pod, c, 60*time.Second, 75)
		}},
		{"drain-timeout", []string{v1alpha1.AnnotationDrainTimeout, "2m30.5s"}, func(t *testing.T, pod *corev1.Pod, c *corev1.Container) {
			wantDrain(t, pod, c, 150500*time.Millisecond, 166) // 165.5s, up to a whole second
		}},
		{"durability default disk", nil, wantQueue(0, 2500)},
		{"durability disk", []string{v1alpha1.AnnotationDurability, "disk"}, wantQueue(0, 2500)},
		{"durability fsync", []string{v1alpha1.AnnotationDurability, "fsync"}, wantQueue(0, 1)},
		{"durability memory", []string{v1alpha1.AnnotationDurability, "memory"}, wantQueue(10000, 2500)},
		{"memory takes its own queue size", []string{v1alpha1.AnnotationDurability, "memory",
			v1alpha1.AnnotationQueuedFlags, "--mem-queue-size=50000"}, wantQueue(50000, 2500)},
		{"storage default pvc, 1Gi, default class", nil, func(t *testing.T, pod *corev1.Pod, _ *corev1.Container) {
			wantClaim(t, pod, "1Gi", nil)
		}},
		{"storage pvc, size and class", []string{v1alpha1.AnnotationStorage, "pvc", v1alpha1.AnnotationStorageSize, "5Gi",
			v1alpha1.AnnotationStorageClass, "fast-ssd"}, func(t *testing.T, pod *corev1.Pod, _ *corev1.Container) {
			wantClaim(t, pod, "5Gi", new("fast-ssd"))
		}},
		{"storage class empty: no dynamic provisioning", []string{v1alpha1.AnnotationStorageClass, ""},
			func(t *testing.T, pod *corev1.Pod, _ *corev1.Container) { wantClaim(t, pod, "1Gi", new("")) }},
		{"storage emptyDir", []string{v1alpha1.AnnotationStorage, "emptyDir"}, func(t *testing.T, pod *corev1.Pod, _ *corev1.Container) {
			wantEmptyDir(t, pod, nil)
		}},
		{"storage emptyDir with a size", []string{v1alpha1.AnnotationStorage, "emptyDir", v1alpha1.AnnotationStorageSize, "512Mi"},
			func(t *testing.T, pod *corev1.Pod, _ *corev1.Container) {
				wantEmptyDir(t, pod, new(resource.MustParse("512Mi")))
			}},
		{"queued-flags", []string{v1alpha1.AnnotationQueuedFlags, `--msg-timeout=90s --log-level "debug" --max-msg-size='2097152'`},
			func(t *testing.T, _ *corev1.Pod, c *corev1.Container) {
				o := queuedOptions(t, c)
				if o.MsgTimeout != 90*time.Second || o.LogLevel != "debug" || o.MaxMsgSize != 2097152 {
					t.Fatalf("options %+v", o)
				}
				if got := c.Args[len(c.Args)-4:]; !slices.Equal(got, []string{"--msg-timeout=90s", "--log-level", "debug", "--max-msg-size=2097152"}) {
					t.Fatalf("the pod's flags do not come last: %q", c.Args)
				}
			}},
		{"native-sidecar default true", nil, wantNative(true)},
		{"native-sidecar true", []string{v1alpha1.AnnotationNativeSidecar, "true"}, wantNative(true)},
		{"native-sidecar false", []string{v1alpha1.AnnotationNativeSidecar, "false"}, wantNative(false)},
		{"image default", nil, wantImage("sidequeue:test")},
		{"image", []string{v1alpha1.AnnotationImage, "registry.example.com/sidequeue:v2"}, wantImage("registry.example.com/sidequeue:v2")},
		{"resources default", nil, wantResources("50m", "1", "64Mi", "256Mi")},
		{"resources", []string{v1alpha1.AnnotationCPURequest, "250m", v1alpha1.AnnotationCPULimit, "2",
			v1alpha1.AnnotationMemoryRequest, "128Mi", v1alpha1.AnnotationMemoryLimit, "1Gi"}, wantResources("250m", "2", "128Mi", "1Gi")},
		{"a request equal to its limit", []string{v1alpha1.AnnotationMemoryRequest, "256Mi"}, wantResources("50m", "1", "256Mi", "256Mi")},
		{"skip-handoff has no effect yet", []string{v1alpha1.AnnotationSkipHandoff, "true"}, wantArg("--mem-queue-size=0")},
		{"a status annotation in is replaced", []string{v1alpha1.AnnotationStatus, "stale"}, func(t *testing.T, pod *corev1.Pod, _ *corev1.Container) {
			statusOf(t, pod)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := injected(t, appPod(tc.annotations...))
			tc.check(t, pod, sidecarOf(t, pod))
		})
	}
}

func wantArg(arg string) func(*testing.T, *corev1.Pod, *corev1.Container) {
	return func(t *testing.T, _ *corev1.Pod, c *corev1.Container) {
		if !slices.Contains(c.Args, arg) {
			t.Fatalf("args %q lack %s", c.Args, arg)
		}
		queuedOptions(t, c)
	}
}

func wantDrain(t *testing.T, pod *corev1.Pod, c *corev1.Container, drain time.Duration, grace int64) {
	t.Helper()
	if o := queuedOptions(t, c); o.DrainTimeout != drain {
		t.Fatalf("queued drains for %v, want %v", o.DrainTimeout, drain)
	}
	if got := *pod.Spec.TerminationGracePeriodSeconds; got != grace {
		t.Fatalf("grace period %d, want %d", got, grace)
	}
}

func wantQueue(memQueueSize, syncEvery int64) func(*testing.T, *corev1.Pod, *corev1.Container) {
	return func(t *testing.T, _ *corev1.Pod, c *corev1.Container) {
		if o := queuedOptions(t, c); o.MemQueueSize != memQueueSize || o.SyncEvery != syncEvery {
			t.Fatalf("mem-queue-size %d, sync-every %d; want %d, %d", o.MemQueueSize, o.SyncEvery, memQueueSize, syncEvery)
		}
	}
}

func dataVolumeOf(t *testing.T, pod *corev1.Pod) corev1.Volume {
	t.Helper()
	v := pod.Spec.Volumes[len(pod.Spec.Volumes)-1]
	if v.Name != v1alpha1.SidecarVolumeName {
		t.Fatalf("last volume %q", v.Name)
	}
	return v
}

func wantClaim(t *testing.T, pod *corev1.Pod, size string, class *string) {
	t.Helper()
	v := dataVolumeOf(t, pod)
	if v.Ephemeral == nil || v.EmptyDir != nil {
		t.Fatalf("volume %+v", v.VolumeSource)
	}
	claim := v.Ephemeral.VolumeClaimTemplate
	got := claim.Spec.Resources.Requests[corev1.ResourceStorage]
	if got.Cmp(resource.MustParse(size)) != 0 || !slices.Equal(claim.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}) ||
		claim.Labels[v1alpha1.LabelVolume] != "true" || (class == nil) != (claim.Spec.StorageClassName == nil) ||
		(class != nil && *class != *claim.Spec.StorageClassName) {
		t.Fatalf("claim %+v", claim)
	}
	if st := statusOf(t, pod); st.Volume != "pvc" || st.FSGroup == nil || *st.FSGroup != 65532 {
		t.Fatalf("status %+v", st)
	}
}

func wantEmptyDir(t *testing.T, pod *corev1.Pod, sizeLimit *resource.Quantity) {
	t.Helper()
	v := dataVolumeOf(t, pod)
	if v.EmptyDir == nil || v.Ephemeral != nil || (sizeLimit == nil) != (v.EmptyDir.SizeLimit == nil) ||
		(sizeLimit != nil && sizeLimit.Cmp(*v.EmptyDir.SizeLimit) != 0) {
		t.Fatalf("volume %+v", v.VolumeSource)
	}
	// An emptyDir is writable by every user: the pod's fsGroup is left alone.
	if st := statusOf(t, pod); st.Volume != "emptyDir" || st.FSGroup != nil || pod.Spec.SecurityContext != nil {
		t.Fatalf("status %+v, pod securityContext %+v", st, pod.Spec.SecurityContext)
	}
}

func wantNative(native bool) func(*testing.T, *corev1.Pod, *corev1.Container) {
	return func(t *testing.T, pod *corev1.Pod, c *corev1.Container) {
		list, other := pod.Spec.InitContainers, pod.Spec.Containers
		if !native {
			list, other = other, list
		}
		if list[0].Name != v1alpha1.SidecarContainerName || slices.ContainsFunc(other, func(o corev1.Container) bool {
			return o.Name == v1alpha1.SidecarContainerName
		}) {
			t.Fatalf("the sidecar is not the first of its list only")
		}
		if (c.RestartPolicy != nil) != native || statusOf(t, pod).Native != native {
			t.Fatalf("restartPolicy %v, status %+v", c.RestartPolicy, statusOf(t, pod))
		}
		// A plain sidecar comes first, so kubectl must be told to keep
		// going to the app.
		if got := pod.Annotations[defaultContainerAnnotation]; (got == "app") == native {
			t.Fatalf("default container %q", got)
		}
	}
}

func wantImage(image string) func(*testing.T, *corev1.Pod, *corev1.Container) {
	return func(t *testing.T, pod *corev1.Pod, c *corev1.Container) {
		if c.Image != image || c.ImagePullPolicy != corev1.PullIfNotPresent || statusOf(t, pod).Image != image {
			t.Fatalf("image %q (%s), status %+v", c.Image, c.ImagePullPolicy, statusOf(t, pod))
		}
	}
}

func wantResources(cpuRequest, cpuLimit, memoryRequest, memoryLimit string) func(*testing.T, *corev1.Pod, *corev1.Container) {
	return func(t *testing.T, _ *corev1.Pod, c *corev1.Container) {
		for list, want := range map[*corev1.ResourceList][2]string{
			&c.Resources.Requests: {cpuRequest, memoryRequest},
			&c.Resources.Limits:   {cpuLimit, memoryLimit},
		} {
			cpu, memory := (*list)[corev1.ResourceCPU], (*list)[corev1.ResourceMemory]
			if cpu.Cmp(resource.MustParse(want[0])) != 0 || memory.Cmp(resource.MustParse(want[1])) != 0 {
				t.Fatalf("resources %+v, want cpu %s memory %s", c.Resources, want[0], want[1])
			}
		}
	}
}
