package inject

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// podIPEnv carries the pod's IP into --broadcast-address, where consumers
// that found the sidecar through the lookup connect.
const podIPEnv = "POD_IP"

// sidecarUser is the image's user (DESIGN.md, "Install").
const sidecarUser int64 = 65532

// sidecarContainer is queued as the pod runs it. A native sidecar (an init
// container that keeps running) starts, and answers its startup probe,
// before any later init container or the app; a plain container makes no
// such promise, for clusters older than 1.29.
func sidecarContainer(s *settings, args []string) corev1.Container {
	c := corev1.Container{
		Name:            v1alpha1.SidecarContainerName,
		Image:           s.image,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Command:         []string{"queued"},
		Args:            args,
		Env: []corev1.EnvVar{{Name: podIPEnv, ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"},
		}}},
		Ports: []corev1.ContainerPort{
			{Name: v1alpha1.SidecarTCPPortName, ContainerPort: v1alpha1.QueueTCPPort, Protocol: corev1.ProtocolTCP},
			{Name: v1alpha1.SidecarHTTPPortName, ContainerPort: v1alpha1.QueueHTTPPort, Protocol: corev1.ProtocolTCP},
		},
		Resources:    s.resources,
		VolumeMounts: []corev1.VolumeMount{{Name: v1alpha1.SidecarVolumeName, MountPath: v1alpha1.SidecarDataPath}},
		// Startup: up to a minute to recover the log, checked every second
		// so the app waits no longer than it must.
		StartupProbe:   pingProbe(1, 60),
		ReadinessProbe: pingProbe(5, 3),
		// queued writes its drain summary there; the operator reads it
		// from the container's terminated state.
		TerminationMessagePath:   corev1.TerminationMessagePathDefault,
		TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		SecurityContext:          restrictedSecurityContext(),
	}
	if s.native {
		c.RestartPolicy = new(corev1.ContainerRestartPolicyAlways)
	}
	return c
}

// pingProbe asks queued's /ping, which answers 500 while disk writes fail,
// so a sidecar that cannot store is taken out of rotation. Every field is
// set, defaults too, so the stored pod reads as injected.
func pingProbe(periodSeconds, failureThreshold int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path:   "/ping",
			Port:   intstr.FromInt32(v1alpha1.QueueHTTPPort),
			Scheme: corev1.URISchemeHTTP,
		}},
		PeriodSeconds:    periodSeconds,
		TimeoutSeconds:   1,
		SuccessThreshold: 1,
		FailureThreshold: failureThreshold,
	}
}

// restrictedSecurityContext passes the restricted Pod Security Standard
// on the container itself, whatever the pod sets, so an injected pod is
// admitted wherever its app is.
func restrictedSecurityContext() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot:             new(true),
		RunAsUser:                new(sidecarUser),
		RunAsGroup:               new(sidecarUser),
		Privileged:               new(false),
		AllowPrivilegeEscalation: new(false),
		ReadOnlyRootFilesystem:   new(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}
