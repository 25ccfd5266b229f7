package injection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/sidecar/inject"
)

// The handler reads the pod's namespace and Lookup straight from the API
// server: a Lookup created a moment before its Deployment must not be
// missed by a cache that has not caught up, and get is all it needs.
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get
// +kubebuilder:rbac:groups=sidequeue.io,resources=lookups,verbs=get
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Handler answers the API server's AdmissionReviews for pods: it injects
// the sidecar with a JSON patch, lets pods that need nothing through, or
// refuses a pod with the reason sidecar/inject gives.
type Handler struct {
	Reader   client.Reader
	Recorder events.EventRecorder // nil: no events
	Config   inject.Config
	Decoder  admission.Decoder
}

// refusalPrefix tells a user reading an API error where it came from.
const refusalPrefix = "sidequeue: "

// decision is what Handle answers and how it is counted and recorded.
type decision struct {
	resp   admission.Response
	result string // the counter's result label
	reason string
	note   string // for the event; none when empty
}

// Handle decides, counts the decision and records it as an event.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	pod := &corev1.Pod{}
	d := h.decide(ctx, req, pod)
	admissions.WithLabelValues(d.result, d.reason).Inc()
	if d.note != "" && !(req.DryRun != nil && *req.DryRun) {
		h.record(pod, req.Namespace, d)
	}
	return d.resp
}

func (h *Handler) decide(ctx context.Context, req admission.Request, pod *corev1.Pod) decision {
	if req.Operation != admissionv1.Create {
		return decision{resp: admission.Allowed("sidequeue injects pods when they are created"),
			result: resultNotRequested, reason: "NotCreate"}
	}
	if err := h.Decoder.Decode(req, pod); err != nil {
		return failed(http.StatusBadRequest, "DecodeFailed", fmt.Errorf("decoding the pod: %w", err))
	}
	ns := &corev1.Namespace{}
	if err := h.Reader.Get(ctx, client.ObjectKey{Name: req.Namespace}, ns); err != nil {
		return failed(http.StatusInternalServerError, "NamespaceUnavailable",
			fmt.Errorf("reading namespace %s: %w", req.Namespace, err))
	}
	lookup, err := h.lookup(ctx, req.Namespace, inject.LookupName(pod))
	if err != nil {
		return failed(http.StatusInternalServerError, "LookupUnavailable", err)
	}

	mutated := pod.DeepCopy()
	// A pod being created may not carry its namespace yet; the mutation
	// may need it (the lookupd address), the patch must not add it.
	mutated.Namespace = req.Namespace
	outcome, err := inject.Pod(mutated, ns, lookup, h.Config)
	var refusal *inject.Refusal
	switch {
	case errors.As(err, &refusal):
		msg := refusalPrefix + refusal.Error()
		return decision{resp: admission.Denied(msg), result: resultRefused, reason: refusal.Reason,
			note: fmt.Sprintf("pod %s refused: %s", podName(pod), msg)}
	case err != nil:
		return failed(http.StatusInternalServerError, "InjectFailed", err)
	case outcome == inject.AlreadyInjected:
		return decision{resp: admission.Allowed("sidecar already there"), result: string(outcome), reason: "SidecarPresent"}
	case outcome != inject.Injected:
		return decision{resp: admission.Allowed("no sidecar asked for"), result: resultNotRequested, reason: "NotRequested"}
	}
	mutated.Namespace = pod.Namespace
	// The patch is the difference between the pod as this version of the
	// API types decodes it and the mutated pod, rather than between the
	// request's raw JSON and the mutated pod: a field that a newer API
	// server sent and these types do not know is left alone, not removed.
	before, err := json.Marshal(pod)
	if err != nil {
		return failed(http.StatusInternalServerError, "EncodeFailed", err)
	}
	after, err := json.Marshal(mutated)
	if err != nil {
		return failed(http.StatusInternalServerError, "EncodeFailed", err)
	}
	return decision{resp: admission.PatchResponseFromRaw(before, after), result: resultInjected, reason: "Injected",
		note: fmt.Sprintf("queued sidecar %q added to pod %s", v1alpha1.SidecarContainerName, podName(pod))}
}

// lookup is the Lookup named name in ns, nil when there is none: saying
// so, and how to fix it, is the mutation's business.
func (h *Handler) lookup(ctx context.Context, ns, name string) (*v1alpha1.Lookup, error) {
	l := &v1alpha1.Lookup{}
	err := h.Reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, l)
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading Lookup %s/%s: %w", ns, name, err)
	}
	return l, nil
}

// failed is a decision that could not be made: the pod is refused with
// the cause, as the configuration's failurePolicy would refuse it if the
// webhook could not be reached.
func failed(code int32, reason string, err error) decision {
	return decision{resp: admission.Errored(code, fmt.Errorf("%s%w", refusalPrefix, err)), result: resultError, reason: reason}
}
