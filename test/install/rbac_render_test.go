package install

import (
	"os"
	"reflect"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sidequeue/sidequeue/internal/testenv"
)

// The chart's RBAC is config/rbac/role.yaml's (the controllers' markers):
// its ClusterRole's rules cluster-wide, its Role's in the release
// namespace only, bound to the chart's ServiceAccount; no wildcard.
func TestRenderRBACFromMarkers(t *testing.T) {
	t.Parallel()
	r := mustRender(t, nil)
	generated := generatedRoles(t)
	cr := r.find(t, "ClusterRole", "sidequeue-manager")
	role := r.find(t, "Role", "sidequeue-manager")
	if !reflect.DeepEqual(cr.Object["rules"], generated["ClusterRole"].Object["rules"]) {
		t.Errorf("ClusterRole rules differ from config/rbac/role.yaml's:\n%v\n%v", cr.Object["rules"], generated["ClusterRole"].Object["rules"])
	}
	if !reflect.DeepEqual(role.Object["rules"], generated["Role"].Object["rules"]) {
		t.Errorf("Role rules differ from config/rbac/role.yaml's")
	}
	if role.GetNamespace() != releaseNamespace {
		t.Errorf("Role in %q, want the release namespace %q", role.GetNamespace(), releaseNamespace)
	}
	for _, kind := range []string{"ClusterRoleBinding", "RoleBinding"} {
		b := r.find(t, kind, "sidequeue-manager")
		assertField(t, b.Object, "subjects.0.name="+serviceAccount)
		assertField(t, b.Object, "subjects.0.namespace="+releaseNamespace)
	}
	for _, o := range []*unstructured.Unstructured{cr, role} {
		for _, rule := range rules(o) {
			for _, list := range [][]string{rule.APIGroups, rule.Resources, rule.Verbs} {
				for _, v := range list {
					if v == "*" {
						t.Errorf("%s grants a wildcard: %+v", o.GetKind(), rule)
					}
				}
			}
			if o.GetKind() == "ClusterRole" && slices.Contains(rule.Resources, "secrets") {
				t.Errorf("the ClusterRole grants secrets (%+v): they belong in the namespaced Role", rule)
			}
		}
	}
}

// generatedRoles are config/rbac/role.yaml's ClusterRole and Role.
func generatedRoles(t testing.TB) map[string]*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(testenv.Path("config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := parseManifests(string(b))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		out[o.GetKind()] = o
	}
	if out["ClusterRole"] == nil || out["Role"] == nil {
		t.Fatalf("config/rbac/role.yaml: want a ClusterRole and a Role, have %v", objs)
	}
	return out
}

// rule is a PolicyRule, read from an unstructured Role or ClusterRole.
type rule struct {
	APIGroups, Resources, Verbs, ResourceNames []string
}

func rules(o *unstructured.Unstructured) []rule {
	var out []rule
	list, _ := o.Object["rules"].([]any)
	for _, r := range list {
		m := obj{r.(map[string]any)}
		out = append(out, rule{APIGroups: m.strs("apiGroups"), Resources: m.strs("resources"),
			Verbs: m.strs("verbs"), ResourceNames: m.strs("resourceNames")})
	}
	return out
}
