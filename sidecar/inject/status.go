package inject

import (
	"encoding/json"
)

// Status is the sidequeue.io/status annotation of an injected pod, as
// compact JSON: what injection added, for people (kubectl get pod -o yaml)
// and for the operator, which starts a drain Job like the sidecar.
type Status struct {
	// Image is the sidecar's image.
	Image string `json:"image"`
	// Args is queued's whole argument list (its command is "queued").
	Args []string `json:"args"`
	// Volume is the kind of the sidequeue-data volume: "pvc" (a generic
	// ephemeral volume) or "emptyDir".
	Volume string `json:"volume"`
	// Native is true for a native sidecar (the first init container, with
	// restartPolicy Always), false for the first regular container.
	Native bool `json:"native"`
	// FSGroup is the pod fsGroup injection set, absent when it set none.
	FSGroup *int64 `json:"fsGroup,omitempty"`
}

func (s Status) String() string {
	b, _ := json.Marshal(s) // strings, bools and numbers only: it cannot fail
	return string(b)
}
