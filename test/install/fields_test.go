package install

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Reading rendered objects by dotted paths ("spec.ports.0.port"), so the
// assertions read like the YAML they check.

// field is the value at path in m (list elements by index), nil when
// there is none.
func field(m any, path string) any {
	cur := m
	for _, p := range strings.Split(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(v) {
				return nil
			}
			cur = v[i]
		default:
			return nil
		}
	}
	return cur
}

// assertField checks "path=value", the value compared as printed.
func assertField(t testing.TB, m any, check string) {
	t.Helper()
	path, want, _ := strings.Cut(check, "=")
	if got := fmt.Sprint(field(m, path)); got != want {
		t.Errorf("%s = %s, want %s", path, got, want)
	}
}

// obj is a nested map with typed reads.
type obj struct{ m map[string]any }

func (o obj) str(path string) string {
	s, _ := field(o.m, path).(string)
	return s
}

func (o obj) strs(path string) []string {
	l, _ := field(o.m, path).([]any)
	var out []string
	for _, v := range l {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

// container is the Deployment's only container.
func container(t testing.TB, d *unstructured.Unstructured) obj {
	t.Helper()
	cs, _ := field(d.Object, "spec.template.spec.containers").([]any)
	if len(cs) != 1 {
		t.Fatalf("%s has %d containers, want 1", d.GetName(), len(cs))
	}
	return obj{cs[0].(map[string]any)}
}

// hasKey reports whether key is a map key anywhere in v.
func hasKey(v any, key string) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if k == key || hasKey(e, key) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if hasKey(e, key) {
				return true
			}
		}
	}
	return false
}

func itoa(i int) string { return strconv.Itoa(i) }
