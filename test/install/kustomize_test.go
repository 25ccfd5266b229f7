package install

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/sidequeue/sidequeue/internal/testenv"
)

// kustomizeBuild is `kustomize build dir`, parsed.
func kustomizeBuild(t testing.TB, dir string) []*unstructured.Unstructured {
	t.Helper()
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	b, err := res.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := parseManifests(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// config/default installs what the chart's defaults install, object for
// object and field for field (labels aside: Helm adds its own), but for
// the Namespace (Helm's --create-namespace makes it) and the default
// Lookup (one kubectl apply cannot create a custom resource of a CRD it
// creates; the install guide applies it next).
func TestKustomizeDefaultIsTheChartsDefaults(t *testing.T) {
	t.Parallel()
	chart := mustRender(t, nil)
	kust := &rendered{objs: kustomizeBuild(t, testenv.Path("config", "default"))}
	var want []string
	for _, n := range chart.names() {
		if n != "Lookup/default" {
			want = append(want, n)
		}
	}
	want = append(want, "Namespace/"+releaseNamespace)
	got := kust.names()
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("config/default builds\n%v\nthe chart renders (less Lookup, plus Namespace)\n%v", got, want)
	}
	for _, k := range kust.objs {
		c := chart.get(k.GetKind(), k.GetName())
		if c == nil {
			continue
		}
		if k.GetNamespace() != c.GetNamespace() {
			t.Errorf("%s/%s: namespace %q, the chart's %q", k.GetKind(), k.GetName(), k.GetNamespace(), c.GetNamespace())
		}
		for _, f := range []string{"spec", "rules", "roleRef", "subjects", "webhooks", "data", "type"} {
			if !reflect.DeepEqual(k.Object[f], c.Object[f]) {
				t.Errorf("%s/%s: %s differs:\nkustomize %v\nchart     %v", k.GetKind(), k.GetName(), f, k.Object[f], c.Object[f])
			}
		}
	}
}

// The operator's namespace is one value in kustomize too: config/default
// with another namespace: moves every object, the Namespace itself, the
// bindings' subjects and the webhook's Service there, and excludes it
// from injection in place of sidequeue-system. (An overlay on top of
// config/default would not: replacements run where they are declared.)
func TestKustomizeNamespaceIsOneValue(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	config := testenv.Path("config")
	entries, err := os.ReadDir(config)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "default" {
			must(t, os.Symlink(filepath.Join(config, e.Name()), filepath.Join(dir, e.Name())))
		}
	}
	b, err := os.ReadFile(filepath.Join(config, "default", "kustomization.yaml"))
	must(t, err)
	k := strings.Replace(string(b), "\nnamespace: "+releaseNamespace+"\n", "\nnamespace: queues\n", 1)
	if k == string(b) {
		t.Fatal("config/default/kustomization.yaml: no namespace: line to change")
	}
	must(t, os.MkdirAll(filepath.Join(dir, "default"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "default", "kustomization.yaml"), []byte(k), 0o600))
	r := &rendered{objs: kustomizeBuild(t, filepath.Join(dir, "default"))}
	r.find(t, "Namespace", "queues")
	hook := r.find(t, "MutatingWebhookConfiguration", "sidequeue-injector")
	want := []string{"kube-system", "kube-public", "kube-node-lease", "queues"}
	for i, w := range webhooks(hook) {
		if ex := excluded(w); !slices.Equal(ex, want) {
			t.Errorf("%s excludes %v, want %v", field(w, "name"), ex, want)
		}
		assertField(t, hook.Object, "webhooks."+itoa(i)+".clientConfig.service.namespace=queues")
	}
	for _, kind := range []string{"RoleBinding", "ClusterRoleBinding"} {
		assertField(t, r.find(t, kind, "sidequeue-manager").Object, "subjects.0.namespace=queues")
	}
	for _, o := range r.objs {
		if o.GetNamespace() != "" && o.GetNamespace() != "queues" {
			t.Errorf("%s/%s in %s, want queues", o.GetKind(), o.GetName(), o.GetNamespace())
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// kustomize cannot glob, so config/crd/kustomization.yaml lists the CRDs:
// every one of config/crd/bases must be there (the chart takes them all).
func TestKustomizeListsEveryCRD(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(testenv.Path("config", "crd", "bases", "*.yaml"))
	must(t, err)
	k, err := os.ReadFile(testenv.Path("config", "crd", "kustomization.yaml"))
	must(t, err)
	for _, f := range files {
		if !strings.Contains(string(k), "- bases/"+filepath.Base(f)+"\n") {
			t.Errorf("config/crd/kustomization.yaml does not list bases/%s", filepath.Base(f))
		}
	}
}
