package inject

import (
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// annotationPrefix marks the keys that are ours: every one of them must be
// known, so a misspelt key is refused rather than silently ignored.
var annotationPrefix = v1alpha1.GroupVersion.Group + "/"

// annotation is one key a pod may carry and how its value is read into the
// settings. parse is nil for keys that injection knows but does not read.
type annotation struct {
	key   string
	parse func(s *settings, key, value string) *Refusal
}

// annotations lists every sidequeue.io/* pod annotation.
var annotations = []annotation{
	{v1alpha1.InjectKey, nil},        // read by requested
	{v1alpha1.AnnotationStatus, nil}, // written by apply
	{v1alpha1.AnnotationLookup, parseLookup},
	{v1alpha1.AnnotationDrainTimeout, parseDrainTimeout},
	{v1alpha1.AnnotationDurability, parseDurability},
	{v1alpha1.AnnotationStorage, parseStorage},
	{v1alpha1.AnnotationStorageSize, parseStorageSize},
	{v1alpha1.AnnotationStorageClass, parseStorageClass},
	{v1alpha1.AnnotationQueuedFlags, parseQueuedFlags},
	{v1alpha1.AnnotationNativeSidecar, parseNative},
	{v1alpha1.AnnotationImage, parseImage},
	{v1alpha1.AnnotationCPURequest, resourceAnnotation(requestOf, corev1.ResourceCPU)},
	{v1alpha1.AnnotationCPULimit, resourceAnnotation(limitOf, corev1.ResourceCPU)},
	{v1alpha1.AnnotationMemoryRequest, resourceAnnotation(requestOf, corev1.ResourceMemory)},
	{v1alpha1.AnnotationMemoryLimit, resourceAnnotation(limitOf, corev1.ResourceMemory)},
	{v1alpha1.AnnotationSkipHandoff, parseSkipHandoff},
}

// parseSettings reads the pod's annotations over the defaults: first that
// every sidequeue.io/* key is known, then each value, then the rules that
// tie two values together.
func parseSettings(pod *corev1.Pod, cfg Config) (*settings, *Refusal) {
	if r := checkKnown(pod.Annotations); r != nil {
		return nil, r
	}
	s := defaultSettings(cfg)
	for _, a := range annotations {
		value, ok := pod.Annotations[a.key]
		if !ok || a.parse == nil {
			continue
		}
		if r := a.parse(s, a.key, value); r != nil {
			return nil, r
		}
	}
	if r := s.check(pod.Annotations); r != nil {
		return nil, r
	}
	return s, nil
}

// checkKnown refuses the first unknown sidequeue.io/* key, in key order so
// that the same pod always gets the same message.
func checkKnown(podAnnotations map[string]string) *Refusal {
	keys := make([]string, 0, len(podAnnotations))
	for key := range podAnnotations {
		if strings.HasPrefix(key, annotationPrefix) && !isKnown(key) {
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	sort.Strings(keys)
	key := keys[0]
	if near := nearestKnown(key); near != "" {
		return refuse(key, ReasonUnknownAnnotation,
			"%s is not a sidequeue annotation: did you mean %s?", key, near)
	}
	return refuse(key, ReasonUnknownAnnotation,
		"%s is not a sidequeue annotation: remove it, or use one of %s", key, strings.Join(userKeys(), ", "))
}

func isKnown(key string) bool {
	return slices.ContainsFunc(annotations, func(a annotation) bool { return a.key == key })
}

func knownKeys() []string {
	keys := make([]string, len(annotations))
	for i, a := range annotations {
		keys[i] = a.key
	}
	return keys
}

// userKeys are the keys a pod's author may set: all but the status.
func userKeys() []string {
	return slices.DeleteFunc(knownKeys(), func(key string) bool { return key == v1alpha1.AnnotationStatus })
}

// nearestKnown is the known key closest to a misspelt one, ignoring case,
// if it is at most 3 edits away; "" if none is.
func nearestKnown(key string) string {
	const maxEdits = 3
	best, bestDistance := "", maxEdits+1
	for _, known := range knownKeys() {
		if d := editDistance(strings.ToLower(key), known); d < bestDistance {
			best, bestDistance = known, d
		}
	}
	return best
}

// editDistance is Levenshtein's distance between a and b, in bytes (keys
// are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
