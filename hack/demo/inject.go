package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The injection part of the demo: a namespace opted in, a Lookup there, and
// a publisher pod that asks for the sidecar. The API server sends the pod
// to the manager's webhook, which adds queued; the demo prints what was
// added. No kubelet runs here, so the pod stays Pending.

const injectNamespace = "shop"

// injectManifests is what the demo applies; the Lookup points at the local
// lookupd, like the sample one.
const injectManifests = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    sidequeue.io/injection: enabled
---
apiVersion: sidequeue.io/v1alpha1
kind: Lookup
metadata:
  name: default
  namespace: shop
spec:
  external:
    tcpAddresses: [127.0.0.1:4160]
    httpAddresses: [127.0.0.1:4161]
---
apiVersion: v1
kind: Pod
metadata:
  name: publisher
  namespace: shop
  annotations:
    sidequeue.io/inject: "true"
    sidequeue.io/durability: fsync
spec:
  containers:
  - name: app
    image: registry.example/orders-publisher:1.0
    args: ["--nsqd-tcp-address=$(NSQD_TCP_ADDRESS)"]
`

func (d *demo) showInjection(ctx context.Context) error {
	fmt.Println("==> injection: a publisher pod annotated sidequeue.io/inject in a namespace labelled sidequeue.io/injection=enabled")
	path := filepath.Join(d.dir, "publisher.yaml")
	if err := os.WriteFile(path, []byte(injectManifests), 0o600); err != nil {
		return err
	}
	if err := d.kube.show(ctx, "apply", "-f", path); err != nil {
		return withLogs(err, "manager", "kube-apiserver")
	}
	out, err := d.kube.run(ctx, "get", "pod", "publisher", "-n", injectNamespace, "-o", "yaml")
	if err != nil {
		return err
	}
	sidecar := yamlSection(out, "  initContainers:")
	if !strings.Contains(sidecar, "name: sidequeue") || !strings.Contains(out, "sidequeue.io/injected: \"true\"") {
		return withLogs(fmt.Errorf("the pod came back without the sidecar:\n%s", out), "manager")
	}
	fmt.Printf("    $ kubectl get pod publisher -n %s -o yaml   # the part the webhook added:\n%s",
		injectNamespace, indent(sidecar))
	fmt.Println("==> the pod stays Pending: this demo runs no kubelet, so no pod runs here")
	return nil
}

// yamlSection returns the lines of a YAML document from the line that is
// header up to the next line indented no deeper than it.
func yamlSection(doc, header string) string {
	depth := len(header) - len(strings.TrimLeft(header, " "))
	var b strings.Builder
	in := false
	for line := range strings.Lines(doc) {
		trimmed := strings.TrimLeft(line, " ")
		indented := len(line) - len(trimmed)
		switch {
		case strings.TrimRight(line, "\n") == header:
			in = true
		case in && trimmed != "" && indented <= depth && !strings.HasPrefix(trimmed, "- "):
			return b.String()
		}
		if in {
			b.WriteString(line)
		}
	}
	return b.String()
}
