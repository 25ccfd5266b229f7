//go:build e2e

package cluster

import (
	"context"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// webhookName is the MutatingWebhookConfiguration's fixed name (DESIGN.md).
const webhookName = "sidequeue-injector"

// `helm upgrade` with changed values rolls the manager; the webhook's
// caBundle is kept (the chart never renders it) and a publisher created
// afterwards is injected and publishes.
func (h *harness) testHelmUpgradeKeepsInjection(t *testing.T) {
	before := h.caBundles(t)
	if len(before) == 0 || len(before[0]) == 0 {
		t.Fatalf("the webhook has no caBundle before the upgrade: the manager should have written it")
	}
	h.helmUpgrade(t, map[string]any{"statsInterval": "10s", "logLevel": "debug"})
	h.waitManagerReady(t)
	if after := h.caBundles(t); len(after) == 0 || string(after[0]) != string(before[0]) {
		t.Errorf("the webhook's caBundle changed or went on upgrade")
	}

	ns := h.namespace(t, shortName(t), injectionEnabled)
	m := h.setUpMessaging(t, ns, 1)
	h.injectedRoundTrip(t, m, 100)
}

func (h *harness) caBundles(t testing.TB) [][]byte {
	t.Helper()
	var w admissionregistrationv1.MutatingWebhookConfiguration
	must(t, h.k8s.Get(ctx(t), client.ObjectKey{Name: webhookName}, &w))
	var out [][]byte
	for _, wh := range w.Webhooks {
		out = append(out, wh.ClientConfig.CABundle)
	}
	return out
}

// `helm uninstall`, done as the install guide says (publishers scaled
// down and no Backlog left first), leaves the CRDs and the Topics built
// on them, removes the webhook (a pod asking for injection is now created
// as it is, not blocked), and leaves nothing that keeps the release's
// namespace from being deleted. Topics and Channels keep their finalizer,
// as documented, until removed by hand, which the test does as the guide
// says.
func (h *harness) testHelmUninstallLeavesCRDs(t *testing.T) {
	ns := h.namespace(t, shortName(t), injectionEnabled)
	m := h.setUpMessaging(t, ns, 1)
	d := h.deployPublisher(t, m, publisher{name: "pub", count: 50, inject: true}, 1)
	pod := h.waitAppPod(t, ns, "pub")
	h.waitPublished(t, ns, pod.Name)
	// A consumer takes what the sidecar holds, so it drains within its
	// timeout and nothing is left to hand over.
	h.deployConsumer(t, m, "cons")
	h.waitAppPod(t, ns, "cons")
	h.scale(t, d, 0)
	h.waitPodGone(t, ns, pod.Name)
	h.waitNoBacklogs(t, ns)

	h.helmUninstall(t)
	for _, plural := range []string{"lookups", "topics", "channels", "backlogs"} {
		crd := plural + "." + v1alpha1.GroupVersion.Group
		must(t, h.k8s.Get(ctx(t), client.ObjectKey{Name: crd}, &apiextensionsv1.CustomResourceDefinition{}))
	}
	must(t, h.k8s.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: m.topic}, &v1alpha1.Topic{}))
	h.waitGone(t, &admissionregistrationv1.MutatingWebhookConfiguration{}, "", webhookName)
	h.scale(t, d, 1)
	if p := h.waitAppPod(t, ns, "pub"); len(p.Spec.InitContainers) != 0 {
		t.Errorf("a pod created after uninstalling was injected: %+v", p.Spec.InitContainers)
	}

	h.deleteNamespace(t, releaseNamespace)
	h.releaseFinalizers(t, ns)
}

func (h *harness) waitNoBacklogs(t testing.TB, ns string) {
	t.Helper()
	eventually(t, long, "no Backlog in "+ns, func(ctx context.Context) (bool, error) {
		var l v1alpha1.BacklogList
		err := h.k8s.List(ctx, &l, client.InNamespace(ns))
		return err == nil && len(l.Items) == 0, err
	})
}

// releaseFinalizers removes the finalizers of ns's Lookups, Topics and
// Channels, as docs/guide/install.md says to after uninstalling: with the
// manager gone, nothing else will.
func (h *harness) releaseFinalizers(t testing.TB, ns string) {
	t.Helper()
	for _, list := range []client.ObjectList{&v1alpha1.LookupList{}, &v1alpha1.TopicList{}, &v1alpha1.ChannelList{}} {
		must(t, h.k8s.List(ctx(t), list, client.InNamespace(ns)))
		must(t, meta.EachListItem(list, func(o runtime.Object) error {
			obj := o.(client.Object)
			patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
			obj.SetFinalizers(nil)
			return client.IgnoreNotFound(h.k8s.Patch(ctx(t), obj, patch))
		}))
	}
}
