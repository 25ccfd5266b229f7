package injection_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	admissionregv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"

	"github.com/sidequeue/sidequeue/internal/testenv"
)

// With config/webhook installed and nothing serving it, pods that did not
// ask for the sidecar are created as usual, and those that did are refused
// (failurePolicy Fail). The configuration is a copy of config/webhook
// pointed at a closed port, narrowed to this test's namespaces.
func TestManagerDown(t *testing.T) {
	t.Parallel()
	const downLabel = "test.sidequeue.io/down"
	installDownWebhook(t, downLabel)
	down := map[string]string{downLabel: "true"}
	in := namespace(t, merge(optedIn, down), true)
	other := namespace(t, down, true)

	// The API server sees the configuration a moment later.
	failed := func(err error) bool { return err != nil && strings.Contains(err.Error(), "failed calling webhook") }
	testenv.Within(t, settle, "the configuration pointing nowhere to be in effect", func() bool {
		pod := newPod(in, "", asks, nil)
		pod.GenerateName = "probe-"
		return failed(create(t, pod))
	})

	for _, c := range []struct {
		ns, name            string
		annotations, labels map[string]string
		refused             bool
	}{
		{in, "annotated", asks, nil, true},
		{in, "plain", nil, nil, false},
		{in, "label-only", nil, asks, false},
		{other, "labelled", nil, asks, true},
		{other, "plain", nil, nil, false},
		{other, "annotation-only", asks, nil, false},
	} {
		err := create(t, newPod(c.ns, c.name, c.annotations, c.labels))
		switch {
		case c.refused && !failed(err):
			t.Errorf("pod %s/%s: %v, want refused for want of the webhook", c.ns, c.name, err)
		case !c.refused && err != nil:
			t.Errorf("pod %s/%s not created: %v", c.ns, c.name, err)
		}
	}
}

// installDownWebhook installs config/webhook's configuration, renamed,
// calling a port where nothing listens, for namespaces labelled label.
func installDownWebhook(t testing.TB, label string) {
	t.Helper()
	data, err := os.ReadFile(testenv.Path("config", "webhook", "manifests.yaml"))
	must(t, err)
	var cfg admissionregv1.MutatingWebhookConfiguration
	must(t, yaml.Unmarshal(data, &cfg))
	url := "https://localhost:" + strconv.Itoa(freePort(t)) + "/inject-pod"
	cfg.Name += "-down"
	for i := range cfg.Webhooks {
		w := &cfg.Webhooks[i]
		w.ClientConfig = admissionregv1.WebhookClientConfig{URL: &url, CABundle: caPEM(t)}
		if w.NamespaceSelector.MatchLabels == nil {
			w.NamespaceSelector.MatchLabels = map[string]string{}
		}
		w.NamespaceSelector.MatchLabels[label] = "true"
	}
	must(t, k8s.Create(context.Background(), &cfg))
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), &cfg) })
}

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
