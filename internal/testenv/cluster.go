package testenv

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Objects that components missing from envtest would make, for tests that
// play their part.

// EphemeralClaim is the claim the ephemeral volume controller makes for
// the pod's generic ephemeral volume named volume: <pod>-<volume>, from the
// volume's template, controlled by the pod; nil when the pod has no such
// volume.
func EphemeralClaim(pod *corev1.Pod, volume string) *corev1.PersistentVolumeClaim {
	for _, v := range pod.Spec.Volumes {
		if v.Name != volume || v.Ephemeral == nil || v.Ephemeral.VolumeClaimTemplate == nil {
			continue
		}
		tmpl := v.Ephemeral.VolumeClaimTemplate
		controller := true
		return &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name + "-" + volume, Labels: tmpl.Labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID,
					Controller: &controller, BlockOwnerDeletion: &controller}}},
			Spec: tmpl.Spec,
		}
	}
	return nil
}

// LocalVolume is what a volume binder would bind the claim to: a local
// volume pinned (by kubernetes.io/hostname) to node, its claimRef set; the
// test then sets the claim's volumeName.
func LocalVolume(claim *corev1.PersistentVolumeClaim, node string) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: claim.Namespace + "-" + claim.Name},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      claim.Spec.Resources.Requests,
			AccessModes:                   claim.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: "/mnt/disk"}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
			}}}},
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: claim.Namespace, Name: claim.Name, UID: claim.UID},
		},
	}
}
