package install

import (
	"os"
	"reflect"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sidequeue/sidequeue/internal/testenv"
)

// The chart's webhook configuration selects what config/webhook selects
// (one source: the chart renders config/webhook's copy), and calls the
// chart's Service.
func TestRenderWebhookAsConfig(t *testing.T) {
	t.Parallel()
	source := configWebhook(t)
	r := mustRender(t, nil)
	got := r.find(t, "MutatingWebhookConfiguration", source.GetName())
	if !reflect.DeepEqual(selection(got), selection(source)) {
		t.Errorf("chart selects\n%v\nconfig/webhook selects\n%v", selection(got), selection(source))
	}
	for i := range webhooks(got) {
		p := "webhooks." + itoa(i)
		assertField(t, got.Object, p+".clientConfig.service.name=sidequeue-webhook")
		assertField(t, got.Object, p+".clientConfig.service.namespace="+releaseNamespace)
		assertField(t, got.Object, p+".clientConfig.service.port=443")
		assertField(t, got.Object, p+".failurePolicy=Fail")
	}
}

// Installed elsewhere, the release namespace is the one excluded (and
// the one the Service is in), in place of config/'s.
func TestRenderWebhookExcludesReleaseNamespace(t *testing.T) {
	t.Parallel()
	r, err := renderIn(t, "queues", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := r.find(t, "MutatingWebhookConfiguration", "sidequeue-injector")
	want := []string{"kube-system", "kube-public", "kube-node-lease", "queues"}
	for i, w := range webhooks(got) {
		if ex := excluded(w); !slices.Equal(ex, want) {
			t.Errorf("%s excludes %v, want %v", field(w, "name"), ex, want)
		}
		assertField(t, got.Object, "webhooks."+itoa(i)+".clientConfig.service.namespace=queues")
	}
	assertField(t, r.find(t, "Role", "sidequeue-manager").Object, "metadata.namespace=queues")
}

// configWebhook is config/webhook/manifests.yaml's configuration.
func configWebhook(t testing.TB) *unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(testenv.Path("config", "webhook", "manifests.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := parseManifests(string(b))
	if err != nil || len(objs) != 1 {
		t.Fatalf("config/webhook/manifests.yaml: %v (%d objects)", err, len(objs))
	}
	return objs[0]
}

func webhooks(o *unstructured.Unstructured) []any {
	l, _ := o.Object["webhooks"].([]any)
	return l
}

// selection is what decides which pods each entry is sent, and how.
func selection(o *unstructured.Unstructured) []map[string]any {
	var out []map[string]any
	for _, w := range webhooks(o) {
		m := map[string]any{}
		for _, k := range []string{"name", "rules", "namespaceSelector", "objectSelector", "matchConditions",
			"sideEffects", "timeoutSeconds", "reinvocationPolicy", "matchPolicy", "admissionReviewVersions"} {
			m[k] = field(w, k)
		}
		m["path"] = field(w, "clientConfig.service.path")
		out = append(out, m)
	}
	return out
}

// excluded is the entry's NotIn list of namespace names.
func excluded(w any) []string {
	exprs, _ := field(w, "namespaceSelector.matchExpressions").([]any)
	for _, e := range exprs {
		if field(e, "key") == "kubernetes.io/metadata.name" && field(e, "operator") == "NotIn" {
			return obj{e.(map[string]any)}.strs("values")
		}
	}
	return nil
}
