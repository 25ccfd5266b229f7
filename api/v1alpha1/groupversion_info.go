// Package v1alpha1 contains the sidequeue.io/v1alpha1 API: Lookup, Topic and
// Channel, the custom resources the operator reconciles (see DESIGN.md, "The
// custom resources").
//
// +kubebuilder:object:generate=true
// +groupName=sidequeue.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every type in this package.
	GroupVersion = schema.GroupVersion{Group: "sidequeue.io", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this package with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
