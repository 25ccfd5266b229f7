package v1alpha1

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"
)

// schemaCheck applies a CRD's schema the way the API server does on create
// and update: defaults, then OpenAPI validation, then the CEL rules. It is
// no API server (no pruning of unknown fields, no metadata checks), but it
// runs the generated schema and rules themselves. Tests against a real API
// server come with envtest.
type schemaCheck struct {
	structural *structuralschema.Structural
	openapi    validation.SchemaValidator
	cel        *cel.Validator
}

func newSchemaCheck(t *testing.T, plural string) *schemaCheck {
	t.Helper()
	crd := loadCRD(t, plural)
	var internal apiextensions.JSONSchemaProps
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(
		crd.Spec.Versions[0].Schema.OpenAPIV3Schema, &internal, nil); err != nil {
		t.Fatal(err)
	}
	s, err := structuralschema.NewStructural(&internal)
	if err != nil {
		t.Fatal(err)
	}
	if errs := structuralschema.ValidateStructural(nil, s); len(errs) > 0 {
		t.Fatalf("%s: schema is not structural: %v", plural, errs)
	}
	v, _, err := validation.NewSchemaValidator(&internal)
	if err != nil {
		t.Fatal(err)
	}
	c := cel.NewValidator(s, true, celconfig.PerCallLimit)
	if c == nil {
		t.Fatalf("%s: no CEL rules", plural)
	}
	return &schemaCheck{structural: s, openapi: v, cel: c}
}

func parseObject(t *testing.T, doc string) map[string]any {
	t.Helper()
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
		t.Fatalf("parse %q: %v", doc, err)
	}
	return obj
}

// check defaults obj and validates it, as an update of old when old is not
// nil, and returns the errors.
func (c *schemaCheck) check(t *testing.T, obj, old map[string]any) field.ErrorList {
	t.Helper()
	structuraldefaulting.Default(obj, c.structural)
	var errs field.ErrorList
	var oldObj any
	if old != nil {
		structuraldefaulting.Default(old, c.structural)
		errs = validation.ValidateCustomResourceUpdate(nil, obj, old, c.openapi)
		oldObj = old
	} else {
		errs = validation.ValidateCustomResource(nil, obj, c.openapi)
	}
	celErrs, _ := c.cel.Validate(context.Background(), nil, c.structural, obj, oldObj, celconfig.RuntimeCELCostBudget)
	return append(errs, celErrs...)
}

func TestSamplesValidate(t *testing.T) {
	samples, err := filepath.Glob("../../config/samples/sidequeue_v1alpha1_*.yaml")
	if err != nil || len(samples) < 3 {
		t.Fatalf("samples: %v %v", samples, err)
	}
	checks := map[string]*schemaCheck{
		"Lookup":  newSchemaCheck(t, "lookups"),
		"Topic":   newSchemaCheck(t, "topics"),
		"Channel": newSchemaCheck(t, "channels"),
	}
	for _, path := range samples {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		obj := parseObject(t, string(b))
		kind, _ := obj["kind"].(string)
		c := checks[kind]
		if c == nil || obj["apiVersion"] != GroupVersion.String() {
			t.Errorf("%s: apiVersion %v kind %v", path, obj["apiVersion"], kind)
			continue
		}
		if errs := c.check(t, obj, nil); len(errs) > 0 {
			t.Errorf("%s: %v", path, errs)
		}
	}
}

type validationCase struct {
	name     string
	obj, old string // old empty: a create
	wantErr  string // empty: valid
}

func runCases(t *testing.T, plural string, cases []validationCase) {
	c := newSchemaCheck(t, plural)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var old map[string]any
			if tc.old != "" {
				old = withName(parseObject(t, tc.old))
			}
			errs := c.check(t, withName(parseObject(t, tc.obj)), old)
			switch {
			case tc.wantErr == "" && len(errs) > 0:
				t.Errorf("want valid, got %v", errs)
			case tc.wantErr != "" && !strings.Contains(errs.ToAggregate().Error(), tc.wantErr):
				t.Errorf("want an error containing %q, got %v", tc.wantErr, errs)
			}
		})
	}
}

// withName gives obj the metadata.name that the API server always has and
// root-level rules read.
func withName(obj map[string]any) map[string]any {
	if _, ok := obj["metadata"]; !ok {
		obj["metadata"] = map[string]any{"name": "x"}
	}
	return obj
}

func TestTopicValidation(t *testing.T) {
	runCases(t, "topics", []validationCase{
		{name: "no spec", obj: `{metadata: {name: orders}}`},
		{name: "name", obj: `{spec: {topicName: "orders#ephemeral"}}`},
		{name: "bad name", obj: `{spec: {topicName: "a b"}}`, wantErr: "spec.topicName"},
		{name: "long name", obj: `{spec: {topicName: "` + strings.Repeat("a", 65) + `"}}`, wantErr: "spec.topicName"},
		{name: "bad policy", obj: `{spec: {deletionPolicy: Orphan}}`, wantErr: "spec.deletionPolicy"},
		{name: "pause", obj: `{spec: {topicName: a, paused: true}}`, old: `{spec: {topicName: a}}`},
		{name: "rename", obj: `{spec: {topicName: b}}`, old: `{spec: {topicName: a}}`, wantErr: "spec.topicName is immutable"},
		{name: "add name", obj: `{spec: {topicName: b}}`, old: `{spec: {}}`, wantErr: "cannot be added or removed"},
		{name: "remove name", obj: `{spec: {}}`, old: `{spec: {topicName: a}}`, wantErr: "cannot be added or removed"},
		{name: "same lookup", obj: `{spec: {lookupRef: {name: default}}}`, old: `{spec: {}}`},
		{name: "move lookup", obj: `{spec: {lookupRef: {name: other}}}`, old: `{spec: {}}`, wantErr: "spec.lookupRef is immutable"},
	})
}

func TestChannelValidation(t *testing.T) {
	runCases(t, "channels", []validationCase{
		{name: "minimal", obj: `{spec: {topicRef: {name: orders}}}`},
		{name: "no topic", obj: `{spec: {channelName: a}}`, wantErr: "topicRef"},
		{name: "bad name", obj: `{spec: {topicRef: {name: orders}, channelName: "a#b"}}`, wantErr: "spec.channelName"},
		{name: "pause", obj: `{spec: {topicRef: {name: o}, paused: true}}`, old: `{spec: {topicRef: {name: o}}}`},
		{name: "move", obj: `{spec: {topicRef: {name: p}}}`, old: `{spec: {topicRef: {name: o}}}`, wantErr: "spec.topicRef is immutable"},
		{name: "rename", obj: `{spec: {topicRef: {name: o}, channelName: b}}`, old: `{spec: {topicRef: {name: o}, channelName: a}}`, wantErr: "spec.channelName is immutable"},
		{name: "add name", obj: `{spec: {topicRef: {name: o}, channelName: b}}`, old: `{spec: {topicRef: {name: o}}}`, wantErr: "cannot be added or removed"},
	})
}

func TestLookupValidation(t *testing.T) {
	const ext = `external: {tcpAddresses: ["127.0.0.1:4160"], httpAddresses: ["127.0.0.1:4161"]}`
	runCases(t, "lookups", []validationCase{
		{name: "managed default", obj: `{}`},
		{name: "managed", obj: `{spec: {replicas: 3, image: x, tombstoneLifetime: 45s}}`},
		{name: "zero replicas", obj: `{spec: {replicas: 0}}`, wantErr: "spec.replicas"},
		{name: "external", obj: `{spec: {` + ext + `}}`},
		{name: "external no http", obj: `{spec: {external: {tcpAddresses: [a:1], httpAddresses: []}}}`, wantErr: "httpAddresses"},
		{name: "external and image", obj: `{spec: {image: x, ` + ext + `}}`, wantErr: "an external Lookup takes only spec.external"},
		{name: "external and replicas", obj: `{spec: {replicas: 3, ` + ext + `}}`, wantErr: "spec.replicas does not apply"},
	})
}
