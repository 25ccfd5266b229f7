package inject

import (
	"slices"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// DrainFlag makes queued serve its data path's backlog and exit once it is
// empty, refusing publishes.
const DrainFlag = "--drain-only"

// DrainPodSpec is the pod of a drain Job: the sidecar that wrote the claim,
// run again on it with DrainFlag: same image, same arguments (so the same
// Lookup registration and limits), the same restricted securityContext. It
// tolerates a cordoned node, where a node-local volume may be bound.
func DrainPodSpec(claim, image string, sidecarArgs []string, resources *corev1.ResourceRequirements) corev1.PodSpec {
	s := &settings{image: image}
	if resources != nil {
		s.resources = *resources
	}
	args := slices.Clone(sidecarArgs)
	if !slices.Contains(args, DrainFlag) {
		args = append(args, DrainFlag)
	}
	c := sidecarContainer(s, args)
	// A drain has no app waiting on it: only readiness, for consumers.
	c.StartupProbe = nil
	return corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever,
		Containers:    []corev1.Container{c},
		Volumes: []corev1.Volume{{Name: v1alpha1.SidecarVolumeName, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim},
		}}},
		SecurityContext: &corev1.PodSecurityContext{
			FSGroup:        new(sidecarUser),
			RunAsNonRoot:   new(true),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		AutomountServiceAccountToken: new(false),
		Tolerations: []corev1.Toleration{{
			Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule,
		}},
	}
}
