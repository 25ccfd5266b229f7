package inject

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// dataVolume holds queued's log. A generic ephemeral volume is a PVC that
// lives and dies with the pod (the backlog handoff keeps it when it must),
// labelled so the operator can find it; an emptyDir cannot be handed off.
func dataVolume(s *settings) corev1.Volume {
	v := corev1.Volume{Name: v1alpha1.SidecarVolumeName}
	if s.storage == storageEmptyDir {
		v.EmptyDir = &corev1.EmptyDirVolumeSource{SizeLimit: s.storageSize}
		return v
	}
	size := defaultStorageSize
	if s.storageSize != nil {
		size = *s.storageSize
	}
	v.Ephemeral = &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{v1alpha1.LabelVolume: "true"}},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
			StorageClassName: s.storageClass,
		},
	}}
	return v
}

// fsGroupFor is the pod fsGroup that injection sets, nil for none. Most
// provisioners create a volume's root owned by root, where the sidecar's
// user could not write; with an fsGroup the kubelet hands the volume to
// that group, and every container of the pod, the sidecar too, is in it.
// A pod that sets its own fsGroup keeps it; an emptyDir is writable by all.
func fsGroupFor(pod *corev1.Pod, s *settings) *int64 {
	if s.storage != storagePVC || (pod.Spec.SecurityContext != nil && pod.Spec.SecurityContext.FSGroup != nil) {
		return nil
	}
	return new(sidecarUser)
}
