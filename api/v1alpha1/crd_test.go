package v1alpha1

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// crdDir holds the CRDs that `make manifests` generates from this package.
const crdDir = "../../config/crd/bases"

func loadCRD(t *testing.T, plural string) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(crdDir, "sidequeue.io_"+plural+".yaml"))
	if err != nil {
		t.Fatalf("read CRD (run `make manifests`): %v", err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(b, &crd); err != nil {
		t.Fatalf("parse CRD %s: %v", plural, err)
	}
	if crd.Name != plural+".sidequeue.io" || crd.Spec.Group != "sidequeue.io" {
		t.Fatalf("CRD %s: name %q group %q", plural, crd.Name, crd.Spec.Group)
	}
	if crd.Spec.Scope != apiextensionsv1.NamespaceScoped {
		t.Errorf("CRD %s: scope %q, want Namespaced", plural, crd.Spec.Scope)
	}
	if len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Name != "v1alpha1" ||
		!crd.Spec.Versions[0].Served || !crd.Spec.Versions[0].Storage {
		t.Fatalf("CRD %s: want one served, stored version v1alpha1", plural)
	}
	v := crd.Spec.Versions[0]
	if v.Subresources == nil || v.Subresources.Status == nil {
		t.Errorf("CRD %s: no status subresource", plural)
	}
	return &crd
}

// prop walks the schema down a path of property names.
func prop(t *testing.T, crd *apiextensionsv1.CustomResourceDefinition, path ...string) apiextensionsv1.JSONSchemaProps {
	t.Helper()
	s := *crd.Spec.Versions[0].Schema.OpenAPIV3Schema
	for _, p := range path {
		next, ok := s.Properties[p]
		if !ok {
			t.Fatalf("%s: no property %s", crd.Name, strings.Join(path, "."))
		}
		s = next
	}
	return s
}

func hasRule(s apiextensionsv1.JSONSchemaProps, substr string) bool {
	for _, r := range s.XValidations {
		if strings.Contains(r.Rule, substr) {
			return true
		}
	}
	return false
}

func columns(crd *apiextensionsv1.CustomResourceDefinition) map[string]string {
	m := map[string]string{}
	for _, c := range crd.Spec.Versions[0].AdditionalPrinterColumns {
		if c.Priority == 0 {
			m[strings.ToUpper(c.Name)] = c.JSONPath
		}
	}
	return m
}

func wantColumns(t *testing.T, crd *apiextensionsv1.CustomResourceDefinition, want map[string]string) {
	t.Helper()
	got := columns(crd)
	for name, path := range want {
		if got[name] != path {
			t.Errorf("%s: column %s = %q, want %q", crd.Name, name, got[name], path)
		}
	}
}

const readyPath = `.status.conditions[?(@.type=="Ready")].status`

func TestTopicCRD(t *testing.T) {
	crd := loadCRD(t, "topics")
	if crd.Spec.Names.Kind != "Topic" {
		t.Errorf("kind %q", crd.Spec.Names.Kind)
	}
	wantColumns(t, crd, map[string]string{
		"DEPTH": ".status.depth", "NODES": ".status.nodes", "PAUSED": ".status.paused", "READY": readyPath,
		"AGE": ".metadata.creationTimestamp",
	})
	name := prop(t, crd, "spec", "topicName")
	if name.Pattern != NamePattern || name.MaxLength == nil || *name.MaxLength != NameMaxLength {
		t.Errorf("topicName: pattern %q maxLength %v", name.Pattern, name.MaxLength)
	}
	if !hasRule(name, "self == oldSelf") || !hasRule(prop(t, crd, "spec", "lookupRef"), "self == oldSelf") {
		t.Error("topicName and lookupRef must be immutable")
	}
	if !hasRule(prop(t, crd, "spec"), "has(oldSelf.topicName)") {
		t.Error("topicName must not be added or removed after creation")
	}
	if d := prop(t, crd, "spec", "lookupRef").Default; d == nil || string(d.Raw) != `{"name":"default"}` {
		t.Errorf("lookupRef default %v", d)
	}
	policy := prop(t, crd, "spec", "deletionPolicy")
	if policy.Default == nil || string(policy.Default.Raw) != `"Retain"` || len(policy.Enum) != 2 {
		t.Errorf("deletionPolicy: default %v enum %v", policy.Default, policy.Enum)
	}
	for _, f := range []string{"observedGeneration", "conditions", "nodes", "depth", "messageCount", "channels", "paused"} {
		prop(t, crd, "status", f)
	}
	if c := prop(t, crd, "status", "conditions"); c.XListType == nil || *c.XListType != "map" {
		t.Error("status.conditions must be a map list keyed by type")
	}
}

func TestChannelCRD(t *testing.T) {
	crd := loadCRD(t, "channels")
	wantColumns(t, crd, map[string]string{
		"DEPTH": ".status.depth", "CONSUMERS": ".status.consumers", "PAUSED": ".status.paused", "READY": readyPath,
		"AGE": ".metadata.creationTimestamp",
	})
	spec := prop(t, crd, "spec")
	if len(spec.Required) != 1 || spec.Required[0] != "topicRef" {
		t.Errorf("spec.required %v, want [topicRef]", spec.Required)
	}
	name := prop(t, crd, "spec", "channelName")
	if name.Pattern != NamePattern || name.MaxLength == nil || *name.MaxLength != NameMaxLength {
		t.Errorf("channelName: pattern %q maxLength %v", name.Pattern, name.MaxLength)
	}
	if !hasRule(name, "self == oldSelf") || !hasRule(prop(t, crd, "spec", "topicRef"), "self == oldSelf") {
		t.Error("channelName and topicRef must be immutable")
	}
	if !hasRule(spec, "has(oldSelf.channelName)") {
		t.Error("channelName must not be added or removed after creation")
	}
	for _, f := range []string{"observedGeneration", "conditions", "depth", "inFlight", "deferred",
		"requeued", "timedOut", "consumers", "messageCount", "paused"} {
		prop(t, crd, "status", f)
	}
}

func TestLookupCRD(t *testing.T) {
	crd := loadCRD(t, "lookups")
	wantColumns(t, crd, map[string]string{
		"READY": ".status.readyReplicas", "AGE": ".metadata.creationTimestamp",
	})
	r := prop(t, crd, "spec", "replicas")
	if r.Default == nil || string(r.Default.Raw) != "2" || r.Minimum == nil || *r.Minimum != 1 {
		t.Errorf("replicas: default %v minimum %v", r.Default, r.Minimum)
	}
	for _, f := range []string{"tcpAddresses", "httpAddresses"} {
		a := prop(t, crd, "spec", "external", f)
		if a.MinItems == nil || *a.MinItems != 1 {
			t.Errorf("external.%s: minItems %v", f, a.MinItems)
		}
	}
	if !hasRule(prop(t, crd, "spec"), "!has(self.external)") {
		t.Error("spec must keep external and managed fields apart")
	}
	for _, f := range []string{"image", "resources", "nodeSelector", "tolerations", "affinity",
		"topologySpreadConstraints", "priorityClassName", "inactiveProducerTimeout", "tombstoneLifetime"} {
		prop(t, crd, "spec", f)
	}
	for _, f := range []string{"observedGeneration", "readyReplicas", "consumerAddresses",
		"daemonAddresses", "producers", "conditions"} {
		prop(t, crd, "status", f)
	}
}

func TestNamePattern(t *testing.T) {
	re := regexp.MustCompile(NamePattern)
	valid := func(s string) bool { return len(s) <= NameMaxLength && re.MatchString(s) }
	for _, s := range []string{"orders", "a", "Orders.v2", "user_events-1", "x#ephemeral",
		"..", strings.Repeat("a", 64), strings.Repeat("a", 54) + "#ephemeral"} {
		if !valid(s) {
			t.Errorf("%q rejected", s)
		}
	}
	for _, s := range []string{"", "has space", "a/b", "a:b", "ä", "#ephemeral", "a#b",
		"a#ephemeral#ephemeral", "a#Ephemeral", strings.Repeat("a", 65), "orders\n"} {
		if valid(s) {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestScheme(t *testing.T) {
	s := runtime.NewScheme()
	if err := AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"Lookup", "LookupList", "Topic", "TopicList", "Channel", "ChannelList"} {
		if !s.Recognizes(GroupVersion.WithKind(kind)) {
			t.Errorf("scheme does not know %s", kind)
		}
	}
}

func TestNSQName(t *testing.T) {
	topic := &Topic{ObjectMeta: metav1.ObjectMeta{Name: "orders"}}
	if topic.NSQName() != "orders" {
		t.Errorf("topic name %q", topic.NSQName())
	}
	topic.Spec.TopicName = "orders#ephemeral"
	if topic.NSQName() != "orders#ephemeral" {
		t.Errorf("topic name %q", topic.NSQName())
	}
	ch := &Channel{ObjectMeta: metav1.ObjectMeta{Name: "billing"}}
	if ch.NSQName() != "billing" {
		t.Errorf("channel name %q", ch.NSQName())
	}
	ch.Spec.ChannelName = "archive"
	if ch.NSQName() != "archive" {
		t.Errorf("channel name %q", ch.NSQName())
	}
	deep := topic.DeepCopy()
	deep.Spec.TopicName = "other"
	if topic.Spec.TopicName == "other" {
		t.Error("DeepCopy shares the spec")
	}
}
