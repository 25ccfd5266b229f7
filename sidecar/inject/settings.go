package inject

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// settings is what the pod's annotations ask for, defaults filled in.
type settings struct {
	lookup       string
	drainTimeout time.Duration
	durability   string // durabilityDisk, durabilityFsync or durabilityMemory
	storage      string // storagePVC or storageEmptyDir
	// storageSize is nil when not annotated: the default size for a PVC,
	// no size limit for an emptyDir.
	storageSize  *resource.Quantity
	storageClass *string // nil: the cluster's default class
	queuedFlags  []string
	native       bool
	skipHandoff  bool // sidequeue.io/skip-handoff: no backlog finalizer
	image        string
	resources    corev1.ResourceRequirements
}

// The values of sidequeue.io/durability and sidequeue.io/storage.
const (
	durabilityDisk   = "disk"
	durabilityFsync  = "fsync"
	durabilityMemory = "memory"
	storagePVC       = "pvc"
	storageEmptyDir  = "emptyDir"
)

const defaultDrainTimeout = 60 * time.Second

var defaultStorageSize = resource.MustParse("1Gi")

// defaultSettings are DESIGN.md's defaults. Requests and limits are always
// set, so a namespace whose quota demands them admits the pod.
func defaultSettings(cfg Config) *settings {
	return &settings{
		lookup:       v1alpha1.DefaultLookupName,
		drainTimeout: defaultDrainTimeout,
		durability:   durabilityDisk,
		storage:      storagePVC,
		native:       true,
		image:        cfg.Image,
		resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("50m"),
				corev1.ResourceMemory: resource.MustParse("64Mi"),
			},
			Limits: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("1"),
				corev1.ResourceMemory: resource.MustParse("256Mi"),
			},
		},
	}
}

// invalid is the refusal of a value that does not parse; how says what a
// good one looks like.
func invalid(key, value, how string) *Refusal {
	return refuse(key, ReasonInvalidAnnotation, "%s %q %s", key, value, how)
}

func parseBool(key, value string) (bool, *Refusal) {
	switch value {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, invalid(key, value, `is not a bool: use "true" or "false"`)
}

func parseSkipHandoff(s *settings, key, value string) *Refusal {
	var r *Refusal
	s.skipHandoff, r = parseBool(key, value)
	return r
}

func parseLookup(s *settings, key, value string) *Refusal {
	if !isName(value) {
		return invalid(key, value, "is not a Lookup name: use the name of a Lookup in the pod's namespace (kubectl get lookups)")
	}
	s.lookup = value
	return nil
}

// isName: the names of Lookups and StorageClasses are DNS subdomains
// (lowercase letters, digits, '-' and '.').
func isName(value string) bool { return len(validation.IsDNS1123Subdomain(value)) == 0 }

func parseDrainTimeout(s *settings, key, value string) *Refusal {
	d, err := time.ParseDuration(value)
	if err != nil || d <= 0 {
		// 0 would mean "drain for ever" to queued, which the kubelet's
		// grace period cuts short with a kill and no summary.
		return invalid(key, value, "is not a positive duration: use one such as 60s, 5m or 1h30m")
	}
	s.drainTimeout = d
	return nil
}

func parseDurability(s *settings, key, value string) *Refusal {
	switch value {
	case durabilityDisk, durabilityFsync, durabilityMemory:
		s.durability = value
		return nil
	}
	return invalid(key, value, "is not a durability preset: use disk (the default), fsync or memory")
}

func parseStorage(s *settings, key, value string) *Refusal {
	switch value {
	case storagePVC, storageEmptyDir:
		s.storage = value
		return nil
	}
	return invalid(key, value, "is not a storage kind: use pvc (the default) or emptyDir")
}

func parseStorageSize(s *settings, key, value string) *Refusal {
	q, r := positiveQuantity(key, value, "a size such as 1Gi or 512Mi")
	s.storageSize = q
	return r
}

// parseStorageClass takes "" as Kubernetes does: no class, so the claim
// binds only to a pre-provisioned volume.
func parseStorageClass(s *settings, key, value string) *Refusal {
	if value != "" && !isName(value) {
		return invalid(key, value, "is not a StorageClass name: use one that kubectl get storageclass lists")
	}
	s.storageClass = &value
	return nil
}

func parseQueuedFlags(s *settings, key, value string) *Refusal {
	words, err := splitWords(value)
	if err != nil {
		return refuse(key, ReasonInvalidQueuedFlags, "%s %q: %v: quote values as a shell would, e.g. --log-level=debug --msg-timeout='90s'",
			key, value, err)
	}
	s.queuedFlags = words
	return nil
}

func parseNative(s *settings, key, value string) *Refusal {
	native, r := parseBool(key, value)
	s.native = native
	return r
}

func parseImage(s *settings, key, value string) *Refusal {
	if value == "" || strings.ContainsFunc(value, func(r rune) bool { return r <= ' ' }) {
		return invalid(key, value, "is not an image reference: use one such as registry.example.com/sidequeue:v1, or remove the annotation for the manager's default")
	}
	s.image = value
	return nil
}

func requestOf(r *corev1.ResourceRequirements) corev1.ResourceList { return r.Requests }
func limitOf(r *corev1.ResourceRequirements) corev1.ResourceList   { return r.Limits }

// resourceAnnotation reads one of the four resource annotations into the
// list that list picks (requests or limits).
func resourceAnnotation(list func(*corev1.ResourceRequirements) corev1.ResourceList, name corev1.ResourceName) func(*settings, string, string) *Refusal {
	example := "a size such as 128Mi or 1Gi"
	if name == corev1.ResourceCPU {
		example = "a CPU amount such as 100m or 2"
	}
	return func(s *settings, key, value string) *Refusal {
		q, r := positiveQuantity(key, value, example)
		if r == nil {
			list(&s.resources)[name] = *q
		}
		return r
	}
}

func positiveQuantity(key, value, example string) (*resource.Quantity, *Refusal) {
	q, err := resource.ParseQuantity(value)
	if err != nil {
		return nil, invalid(key, value, "is not a quantity: use "+example)
	}
	if q.Sign() <= 0 {
		return nil, invalid(key, value, "is not more than zero: use "+example)
	}
	return &q, nil
}

// resourceKeys are the annotations of each resource: request, then limit.
var resourceKeys = []struct {
	name           corev1.ResourceName
	request, limit string
}{
	{corev1.ResourceCPU, v1alpha1.AnnotationCPURequest, v1alpha1.AnnotationCPULimit},
	{corev1.ResourceMemory, v1alpha1.AnnotationMemoryRequest, v1alpha1.AnnotationMemoryLimit},
}

// check applies the rules that tie two settings together, blaming the
// annotation that the pod set (a default cannot be at fault).
func (s *settings) check(podAnnotations map[string]string) *Refusal {
	if s.storage == storageEmptyDir && s.storageClass != nil {
		return refuse(v1alpha1.AnnotationStorageClass, ReasonInvalidAnnotation,
			"%s applies to a PVC, but %s is %s: remove %s, or drop %s for a PVC",
			v1alpha1.AnnotationStorageClass, v1alpha1.AnnotationStorage, storageEmptyDir,
			v1alpha1.AnnotationStorageClass, v1alpha1.AnnotationStorage)
	}
	for _, rk := range resourceKeys {
		request, limit := s.resources.Requests[rk.name], s.resources.Limits[rk.name]
		if request.Cmp(limit) <= 0 {
			continue
		}
		field := rk.request
		if _, ok := podAnnotations[field]; !ok {
			field = rk.limit
		}
		return refuse(field, ReasonInvalidResources,
			"the sidecar's %s request %s is above its limit %s: lower %s or raise %s",
			rk.name, request.String(), limit.String(), rk.request, rk.limit)
	}
	return nil
}
