package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// kube is the demo's access to the API server: kubectl, for what the demo
// shows, and a typed client, for the conditions it waits on.
type kube struct {
	dir        string // where kubectl runs: paths are relative to the repository
	kubectl    string
	configPath string
	client     client.Client
}

const namespace = "default" // the samples name none; the kubeconfig's default

// startControlPlane starts etcd and kube-apiserver from bin/k8s (as envtest
// does for the controller tests) and writes a kubeconfig for an admin user.
func (d *demo) startControlPlane(context.Context) error {
	return step("starting etcd and kube-apiserver", "ready", func() error {
		if err := d.startEnvtest(); err != nil {
			return withLogs(fmt.Errorf("control plane (bin/k8s from `make k8s-bin`): %w", err), "etcd", "kube-apiserver")
		}
		return d.addUser()
	})
}

func (d *demo) startEnvtest() error {
	bin := filepath.Join(d.root, "bin", "k8s")
	servers, err := controlPlaneBinaries(bin, d.dir)
	if err != nil {
		return err
	}
	etcdLog, err := os.Create(filepath.Join(d.dir, "etcd.log"))
	if err != nil {
		return err
	}
	apiLog, err := os.Create(filepath.Join(d.dir, "kube-apiserver.log"))
	if err != nil {
		return err
	}
	// Paths are set rather than found, so that a KUBEBUILDER_ASSETS in the
	// environment cannot swap in other binaries.
	d.env = &envtest.Environment{
		ControlPlane: envtest.ControlPlane{
			APIServer: &envtest.APIServer{Path: filepath.Join(servers, "kube-apiserver"), Out: apiLog, Err: apiLog,
				CertDir: mkdir(d.dir, "kube-apiserver")},
			Etcd: &envtest.Etcd{Path: filepath.Join(servers, "etcd"), Out: etcdLog, Err: etcdLog,
				DataDir: mkdir(d.dir, "etcd")},
			KubectlPath: filepath.Join(bin, "kubectl"),
		},
		// The injector's configuration from config/webhook, pointed by
		// envtest at a local port with certificates it makes, which the
		// manager serves with (--webhook-cert-mode=external).
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			Paths:            []string{filepath.Join(d.root, "config", "webhook", "manifests.yaml")},
			LocalServingHost: "127.0.0.1",
		},
		ControlPlaneStartTimeout: time.Minute,
		ControlPlaneStopTimeout:  stopGrace,
	}
	_, err = d.env.Start()
	return err
}

// mkdir makes dir/name and returns its path; an error shows when the
// process that needs the directory starts.
func mkdir(dir, name string) string {
	path := filepath.Join(dir, name)
	_ = os.Mkdir(path, 0o700)
	return path
}

// addUser provisions the demo's user, writes its kubeconfig and makes a
// client with it.
func (d *demo) addUser() error {
	user, err := d.env.AddUser(envtest.User{Name: "sidequeue-demo", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("adding the demo user: %w", err)
	}
	config, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	path := filepath.Join(d.dir, "kubeconfig")
	if err := os.WriteFile(path, config, 0o600); err != nil {
		return fmt.Errorf("writing the kubeconfig: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return fmt.Errorf("scheme: %w", err)
	}
	c, err := client.New(user.Config(), client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	d.kube = &kube{dir: d.root, kubectl: d.env.ControlPlane.KubectlPath, configPath: path, client: c}
	return nil
}

// run runs kubectl with args and returns its combined output.
func (k *kube) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, k.kubectl, args...)
	cmd.Dir = k.dir
	cmd.SysProcAttr = childAttr() // Ctrl-C is the demo's to handle: it cancels ctx
	cmd.Env = append(os.Environ(), "KUBECONFIG="+k.configPath)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return "", context.Cause(ctx)
	}
	if err != nil {
		return "", fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// show runs kubectl with args and prints the command and its output.
func (k *kube) show(ctx context.Context, args ...string) error {
	out, err := k.run(ctx, args...)
	if err == nil {
		printKubectl(args, out)
	}
	return err
}

// printKubectl prints a kubectl command and its output, as if typed in a shell.
func printKubectl(args []string, out string) {
	fmt.Printf("    $ kubectl %s\n%s", strings.Join(args, " "), indent(out))
}

func indent(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if strings.TrimSpace(line) != "" {
			b.WriteString("      ")
		}
		b.WriteString(line)
	}
	return b.String()
}

func (d *demo) installCRDs(ctx context.Context) error {
	return step("installing the CRDs (config/crd/bases)", "established", func() error {
		if _, err := d.kube.run(ctx, "apply", "-f", "config/crd/bases"); err != nil {
			return withLogs(err, "kube-apiserver")
		}
		_, err := d.kube.run(ctx, "wait", "--for=condition=Established", "--timeout=60s",
			"crd/lookups.sidequeue.io", "crd/topics.sidequeue.io", "crd/channels.sidequeue.io")
		return withLogs(err, "kube-apiserver")
	})
}

func (d *demo) applySamples(ctx context.Context) error {
	fmt.Println("==> applying the sample Lookup, Topic and Channel")
	return withLogs(d.kube.show(ctx, "apply", "-k", "config/samples"), "kube-apiserver")
}

// waitReady waits until the manager has reconciled the samples onto both
// daemons: only then does every message published reach the channel.
func (d *demo) waitReady(ctx context.Context) error {
	err := step("waiting for the Lookup, Topic and Channel to be Ready on both daemons", "ready", func() error {
		err := waitFor(ctx, time.Minute, "the samples to be reconciled", d.samplesReady)
		if err == nil {
			err = waitFor(ctx, 10*time.Second, "topic and channel on every daemon", d.channelOnEveryDaemon)
		}
		return withLogs(err, "manager", "lookupd", "queued-1", "queued-2")
	})
	if err != nil {
		return err
	}
	return d.kube.show(ctx, "get", "lookups,topics,channels")
}

func (d *demo) samplesReady(ctx context.Context) error {
	key := func(name string) client.ObjectKey { return client.ObjectKey{Namespace: namespace, Name: name} }
	var l v1alpha1.Lookup
	if err := d.kube.client.Get(ctx, key(lookupName), &l); err != nil {
		return err
	}
	if err := ready("Lookup", lookupName, l.Status.Conditions); err != nil {
		return err
	}
	if l.Status.Producers != int32(len(d.daemons)) {
		return fmt.Errorf("Lookup %s lists %d producers, want %d", lookupName, l.Status.Producers, len(d.daemons))
	}
	var t v1alpha1.Topic
	if err := d.kube.client.Get(ctx, key(topicName), &t); err != nil {
		return err
	}
	if err := ready("Topic", topicName, t.Status.Conditions); err != nil {
		return err
	}
	if t.Status.Nodes != int32(len(d.daemons)) {
		return fmt.Errorf("Topic %s is on %d nodes, want %d", topicName, t.Status.Nodes, len(d.daemons))
	}
	var c v1alpha1.Channel
	if err := d.kube.client.Get(ctx, key(channelName), &c); err != nil {
		return err
	}
	return ready("Channel", channelName, c.Status.Conditions)
}

func ready(kind, name string, conds []metav1.Condition) error {
	c := meta.FindStatusCondition(conds, v1alpha1.ConditionReady)
	switch {
	case c == nil:
		return fmt.Errorf("%s %s has no Ready condition yet", kind, name)
	case c.Status != metav1.ConditionTrue:
		return fmt.Errorf("%s %s is not Ready (%s): %s", kind, name, c.Reason, c.Message)
	}
	return nil
}

// channelStatus reads the sample Channel's status.
func (d *demo) channelStatus(ctx context.Context) (v1alpha1.ChannelStatus, error) {
	var c v1alpha1.Channel
	err := d.kube.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: channelName}, &c)
	return c.Status, err
}
