package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// These tests send input to the real API server and check what it rejects
// and the message a user reads (what kubectl prints): the CRDs' OpenAPI
// schema (NSQ name rules, enums, required fields) and CEL rules
// (immutability, external Lookup fields). api/v1alpha1's validation tests
// run the same schemas offline; these prove the API server applies them.

// createCase is an object as a user would write it in YAML: kind, name and
// spec (no spec at all when nil).
type createCase struct {
	name string
	kind string
	// objName is metadata.name; empty means a name derived from the case.
	objName string
	spec    map[string]any
	// want are substrings of the rejection message; none means the create
	// must succeed (checked with a server-side dry run: nothing reaches the
	// daemons).
	want []string
}

func rawObject(kind, ns, name string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": v1alpha1.GroupVersion.String(),
		"kind":       kind,
		"metadata":   map[string]any{"namespace": ns, "name": name},
	}}
	if spec != nil {
		u.Object["spec"] = spec
	}
	return u
}

// wantInvalid asserts that err is the API server's Invalid (422) rejection
// and that its message contains every one of want.
func wantInvalid(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want a rejection mentioning %q", want)
	}
	if !apierrors.IsInvalid(err) {
		t.Fatalf("want an Invalid error, got %T %v", err, err)
	}
	t.Logf("rejected: %v", err)
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("message %q lacks %q", err.Error(), w)
		}
	}
	// A rule at the object's root reports "<nil>" as its field unless it
	// names one (fieldPath; metadata.name cannot be one: the schema does
	// not declare it, so those rules name the spec field that fixes it).
	// The API server's own note that it skipped the rules names none.
	const skipped = "<nil>: Invalid value: null: some validation rules were not checked"
	if strings.Contains(strings.ReplaceAll(err.Error(), skipped, ""), "<nil>") {
		t.Errorf("message %q names no field", err.Error())
	}
}

func runCreateCases(t *testing.T, cases []createCase) {
	t.Helper()
	ctx := context.Background()
	ns := namespace(t, true)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := tc.objName
			if name == "" {
				name = fmt.Sprintf("%s-case-%d", ns, i)
			}
			obj := rawObject(tc.kind, ns, name, tc.spec)
			switch {
			case len(tc.want) == 0:
				must(t, k8s.Create(ctx, obj, client.DryRunAll))
			default:
				wantInvalid(t, k8s.Create(ctx, obj), tc.want...)
			}
		})
	}
}

const nsqPattern = "should match '" + v1alpha1.NamePattern + "'"

// nameCases are NSQ name rule cases for field (topicName or channelName) of
// kind, on top of base.
func nameCases(kind, field string, base map[string]any) []createCase {
	with := func(v any) map[string]any {
		spec := map[string]any{field: v}
		for k, b := range base {
			spec[k] = b
		}
		return spec
	}
	path := "spec." + field
	bad := func(name, v string) createCase {
		return createCase{name: name, kind: kind, spec: with(v),
			want: []string{path + `: Invalid value: "` + v + `"`, nsqPattern}}
	}
	long := func(name, v string) createCase {
		return createCase{name: name, kind: kind, spec: with(v),
			want: []string{path + ": Too long", "64"}}
	}
	ok := func(name, v string) createCase { return createCase{name: name, kind: kind, spec: with(v)} }
	return []createCase{
		bad("space", "bad name"),
		bad("slash", "a/b"),
		bad("colon", "a:b"),
		bad("non-ASCII", "café"),
		bad("ephemeral suffix alone", "#ephemeral"),
		bad("ephemeral twice", "a#ephemeral#ephemeral"),
		bad("other hash suffix", "a#durable"),
		bad("ephemeral suffix capitalised", "a#Ephemeral"),
		long("65 characters", strings.Repeat("a", 65)),
		long("ephemeral name of 65 characters", strings.Repeat("a", 55)+"#ephemeral"),
		{name: "empty", kind: kind, spec: with(""), want: []string{path + `: Invalid value: ""`, "at least 1 chars long"}},
		{name: "not a string", kind: kind, spec: with(int64(7)), want: []string{path + ": Invalid value", "must be of type string"}},
		ok("valid: every allowed character", "Aa.b_c-9"),
		ok("valid: 64 characters", strings.Repeat("a", 64)),
		ok("valid: ephemeral", "a#ephemeral"),
		ok("valid: ephemeral name of 64 characters", strings.Repeat("a", 54)+"#ephemeral"),
	}
}

func TestTopicCreateValidation(t *testing.T) {
	long := strings.Repeat("x", 60) + ".example"
	cases := append(nameCases("Topic", "topicName", nil),
		createCase{name: "unknown deletionPolicy", kind: "Topic", spec: map[string]any{"deletionPolicy": "Sometimes"},
			want: []string{`spec.deletionPolicy: Unsupported value: "Sometimes"`, `supported values: "Retain", "Delete"`}},
		createCase{name: "deletionPolicy in lower case", kind: "Topic", spec: map[string]any{"deletionPolicy": "delete"},
			want: []string{`spec.deletionPolicy: Unsupported value: "delete"`}},
		createCase{name: "empty lookupRef name", kind: "Topic", spec: map[string]any{"lookupRef": map[string]any{"name": ""}},
			want: []string{"spec.lookupRef.name", "at least 1 chars long"}},
		createCase{name: "lookupRef without name", kind: "Topic", spec: map[string]any{"lookupRef": map[string]any{}},
			want: []string{"spec.lookupRef.name: Required value"}},
		createCase{name: "paused not a boolean", kind: "Topic", spec: map[string]any{"paused": "yes"},
			want: []string{"spec.paused", "must be of type boolean"}},
		createCase{name: "valid: no spec", kind: "Topic"},
		// metadata.name is the NSQ name when spec.topicName is empty. Kubernetes
		// names are a subset of NSQ's characters, but may be 253 long.
		createCase{name: "metadata.name too long for NSQ", kind: "Topic", objName: long,
			want: []string{"spec.topicName: Invalid value", "NSQ allows at most 64 characters: set spec.topicName to a shorter name"}},
		createCase{name: "valid: metadata.name too long but topicName set", kind: "Topic", objName: long + "-named",
			spec: map[string]any{"topicName": "short"}},
	)
	runCreateCases(t, cases)
}

func TestChannelCreateValidation(t *testing.T) {
	long := strings.Repeat("x", 60) + ".example"
	topicRef := map[string]any{"topicRef": map[string]any{"name": "orders"}}
	cases := append(nameCases("Channel", "channelName", topicRef),
		createCase{name: "no spec", kind: "Channel", want: []string{"spec: Required value"}},
		createCase{name: "no topicRef", kind: "Channel", spec: map[string]any{"channelName": "a"},
			want: []string{"spec.topicRef: Required value"}},
		createCase{name: "empty topicRef name", kind: "Channel", spec: map[string]any{"topicRef": map[string]any{"name": ""}},
			want: []string{"spec.topicRef.name", "at least 1 chars long"}},
		createCase{name: "unknown deletionPolicy", kind: "Channel",
			spec: map[string]any{"topicRef": map[string]any{"name": "orders"}, "deletionPolicy": "Sometimes"},
			want: []string{`spec.deletionPolicy: Unsupported value: "Sometimes"`, `supported values: "Retain", "Delete"`}},
		createCase{name: "valid: topicRef only", kind: "Channel", spec: topicRef},
		createCase{name: "metadata.name too long for NSQ", kind: "Channel", objName: long, spec: topicRef,
			want: []string{"spec.channelName: Invalid value", "NSQ allows at most 64 characters: set spec.channelName to a shorter name"}},
	)
	runCreateCases(t, cases)
}

func TestLookupCreateValidation(t *testing.T) {
	ext := func(extra map[string]any) map[string]any {
		spec := map[string]any{"external": map[string]any{
			"tcpAddresses": []any{"127.0.0.1:4160"}, "httpAddresses": []any{"127.0.0.1:4161"}}}
		for k, v := range extra {
			spec[k] = v
		}
		return spec
	}
	const externalOnly = "an external Lookup takes only spec.external"
	runCreateCases(t, []createCase{
		{name: "external and image", kind: "Lookup", spec: ext(map[string]any{"image": "lookupd:1"}), want: []string{externalOnly}},
		{name: "external and resources", kind: "Lookup",
			spec: ext(map[string]any{"resources": map[string]any{"limits": map[string]any{"cpu": "1"}}}), want: []string{externalOnly}},
		{name: "external and nodeSelector", kind: "Lookup",
			spec: ext(map[string]any{"nodeSelector": map[string]any{"disk": "ssd"}}), want: []string{externalOnly}},
		{name: "external and tombstoneLifetime", kind: "Lookup",
			spec: ext(map[string]any{"tombstoneLifetime": "45s"}), want: []string{externalOnly}},
		{name: "external and inactiveProducerTimeout", kind: "Lookup",
			spec: ext(map[string]any{"inactiveProducerTimeout": "300s"}), want: []string{externalOnly}},
		{name: "external and priorityClassName", kind: "Lookup",
			spec: ext(map[string]any{"priorityClassName": "high"}), want: []string{externalOnly}},
		{name: "external and replicas 3", kind: "Lookup", spec: ext(map[string]any{"replicas": int64(3)}),
			want: []string{"spec.replicas does not apply to an external Lookup"}},
		{name: "external without addresses", kind: "Lookup", spec: map[string]any{"external": map[string]any{}},
			want: []string{"spec.external.tcpAddresses: Required value", "spec.external.httpAddresses: Required value"}},
		{name: "external with no TCP address", kind: "Lookup",
			spec: map[string]any{"external": map[string]any{"tcpAddresses": []any{}, "httpAddresses": []any{"a:4161"}}},
			want: []string{"spec.external.tcpAddresses", "at least 1 items"}},
		{name: "external with an empty HTTP address", kind: "Lookup",
			spec: map[string]any{"external": map[string]any{"tcpAddresses": []any{"a:4160"}, "httpAddresses": []any{""}}},
			want: []string{"spec.external.httpAddresses[0]", "at least 1 chars long"}},
		{name: "zero replicas", kind: "Lookup", spec: map[string]any{"replicas": int64(0)},
			want: []string{"spec.replicas: Invalid value: 0", "greater than or equal to 1"}},
		{name: "negative replicas", kind: "Lookup", spec: map[string]any{"replicas": int64(-1)},
			want: []string{"spec.replicas", "greater than or equal to 1"}},
		{name: "valid: external", kind: "Lookup", spec: ext(nil)},
		// The default (2) is applied before validation, so the CEL rule cannot
		// tell an explicit replicas: 2 from none.
		{name: "valid: external and replicas 2", kind: "Lookup", spec: ext(map[string]any{"replicas": int64(2)})},
		{name: "valid: managed", kind: "Lookup",
			spec: map[string]any{"replicas": int64(3), "image": "lookupd:1", "tombstoneLifetime": "45s", "inactiveProducerTimeout": "5m"}},
		{name: "valid: no spec", kind: "Lookup"},
		{name: "tombstoneLifetime not a duration", kind: "Lookup", spec: map[string]any{"tombstoneLifetime": "soon"},
			want: []string{"spec.tombstoneLifetime", "must be a duration from 1s to 8760h, such as 300s, 5m or 1h30m"}},
		// Past Go's 2562047h a duration overflows, and the manager could not
		// read any Lookup; the bound refuses it.
		{name: "tombstoneLifetime too long", kind: "Lookup", spec: map[string]any{"tombstoneLifetime": "3000000h"},
			want: []string{"spec.tombstoneLifetime", "from 1s to 8760h"}},
		{name: "inactiveProducerTimeout zero", kind: "Lookup", spec: map[string]any{"inactiveProducerTimeout": "0s"},
			want: []string{"spec.inactiveProducerTimeout", "from 1s to 8760h"}},
		{name: "managed name with a dot", kind: "Lookup", objName: "tier.v2",
			want: []string{"spec: Invalid value", "a managed Lookup's name is the start of its Service names"}},
		{name: "managed name too long for a Service", kind: "Lookup", objName: strings.Repeat("l", 47),
			want: []string{"spec: Invalid value", "at most 46 characters"}},
		{name: "valid: managed name of 46 characters", kind: "Lookup", objName: strings.Repeat("l", 46)},
		{name: "valid: external name with a dot", kind: "Lookup", objName: "nsq.legacy", spec: ext(nil)},
		{name: "inactiveProducerTimeout not a duration", kind: "Lookup", spec: map[string]any{"inactiveProducerTimeout": "5 minutes"},
			want: []string{"spec.inactiveProducerTimeout", "must be a duration"}},
		{name: "valid: fractional duration", kind: "Lookup", spec: map[string]any{"tombstoneLifetime": "1.5m"}},
	})
}

// updateRetrying re-reads obj, applies mutate and updates it, again on a
// conflict (the reconcilers write the same objects: finalizer, status).
func updateRetrying(ctx context.Context, obj client.Object, mutate func()) error {
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		mutate()
		return k8s.Update(ctx, obj)
	})
}

type updateCase struct {
	name   string
	obj    client.Object
	mutate func()
	want   []string // none: the update must succeed
}

func runUpdateCases(t *testing.T, cases []updateCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := updateRetrying(context.Background(), tc.obj, tc.mutate)
			if len(tc.want) == 0 {
				must(t, err)
				return
			}
			wantInvalid(t, err, tc.want...)
		})
	}
}

func TestTopicImmutableFields(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, true)
	named := newTopic(ns, ns+"-named", v1alpha1.DeletionPolicyDelete)
	named.Spec.TopicName = ns + "-nsq-name"
	unnamed := newTopic(ns, ns+"-unnamed", v1alpha1.DeletionPolicyDelete)
	must(t, k8s.Create(ctx, named))
	must(t, k8s.Create(ctx, unnamed))
	eventually(t, "topics in the cache", func() bool {
		return get(t, ns, named.Name, named) && get(t, ns, unnamed.Name, unnamed)
	})

	const addRemove = "spec.topicName is immutable: it cannot be added or removed after creation"
	runUpdateCases(t, []updateCase{
		{name: "rename", obj: named, mutate: func() { named.Spec.TopicName = ns + "-other" },
			want: []string{"spec.topicName: Invalid value", "spec.topicName is immutable"}},
		{name: "remove topicName", obj: named, mutate: func() { named.Spec.TopicName = "" }, want: []string{addRemove}},
		{name: "add topicName", obj: unnamed, mutate: func() { unnamed.Spec.TopicName = ns + "-late-name" }, want: []string{addRemove}},
		// Even the name it already has on the daemons: the field may not appear.
		{name: "add topicName equal to metadata.name", obj: unnamed, mutate: func() { unnamed.Spec.TopicName = unnamed.Name },
			want: []string{addRemove}},
		{name: "move to another Lookup", obj: named, mutate: func() { named.Spec.LookupRef.Name = "other" },
			want: []string{"spec.lookupRef: Invalid value", "spec.lookupRef is immutable"}},
		{name: "valid: pause and change deletionPolicy", obj: named, mutate: func() {
			named.Spec.Paused, named.Spec.DeletionPolicy = true, v1alpha1.DeletionPolicyRetain
		}},
		{name: "valid: change deletionPolicy without topicName", obj: unnamed,
			mutate: func() { unnamed.Spec.DeletionPolicy = v1alpha1.DeletionPolicyRetain }},
	})

	var tp v1alpha1.Topic
	get(t, ns, named.Name, &tp)
	if tp.Spec.TopicName != ns+"-nsq-name" || tp.Spec.LookupRef.Name != "default" {
		t.Fatalf("rejected updates changed the Topic: %+v", tp.Spec)
	}
}

func TestChannelImmutableFields(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, true)
	topic := ns + "-stream"
	must(t, k8s.Create(ctx, newTopic(ns, topic, v1alpha1.DeletionPolicyDelete)))
	named := newChannel(ns, "named", topic, v1alpha1.DeletionPolicyDelete)
	named.Spec.ChannelName = "workers"
	unnamed := newChannel(ns, "unnamed", topic, v1alpha1.DeletionPolicyDelete)
	must(t, k8s.Create(ctx, named))
	must(t, k8s.Create(ctx, unnamed))
	eventually(t, "channels in the cache", func() bool {
		return get(t, ns, named.Name, named) && get(t, ns, unnamed.Name, unnamed)
	})

	const addRemove = "spec.channelName is immutable: it cannot be added or removed after creation"
	runUpdateCases(t, []updateCase{
		{name: "rename", obj: named, mutate: func() { named.Spec.ChannelName = "others" },
			want: []string{"spec.channelName: Invalid value", "spec.channelName is immutable"}},
		{name: "remove channelName", obj: named, mutate: func() { named.Spec.ChannelName = "" }, want: []string{addRemove}},
		{name: "add channelName", obj: unnamed, mutate: func() { unnamed.Spec.ChannelName = "late" }, want: []string{addRemove}},
		{name: "move to another Topic", obj: named, mutate: func() { named.Spec.TopicRef.Name = ns + "-elsewhere" },
			want: []string{"spec.topicRef: Invalid value", "spec.topicRef is immutable"}},
		{name: "valid: pause and change deletionPolicy", obj: named, mutate: func() {
			named.Spec.Paused, named.Spec.DeletionPolicy = true, v1alpha1.DeletionPolicyRetain
		}},
	})

	var ch v1alpha1.Channel
	get(t, ns, named.Name, &ch)
	if ch.Spec.ChannelName != "workers" || ch.Spec.TopicRef.Name != topic {
		t.Fatalf("rejected updates changed the Channel: %+v", ch.Spec)
	}
}

// A Topic created from Go without a lookupRef gets the default Lookup, as
// one applied from YAML does: the empty reference is left out, not sent
// as {name: ""}, which the default would not replace.
func TestTopicFromGoWithoutLookupRefGetsTheDefault(t *testing.T) {
	ns := namespace(t, true)
	tp := &v1alpha1.Topic{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders"}}
	must(t, k8s.Create(context.Background(), tp))
	if tp.Spec.LookupRef.Name != "default" {
		t.Fatalf("spec.lookupRef %+v, want the default Lookup", tp.Spec.LookupRef)
	}
}
