// Command provisioner is the dev cluster's dynamic volume provisioner
// (hack/cluster/up.sh): every claim of the StorageClass naming it gets a
// fresh directory under -dir as a hostPath PersistentVolume, pinned to the
// one node, and loses the directory when its PV is deleted (reclaim
// Delete). That is what generic ephemeral volumes and the sidecar's
// claims need; a hostPath PV with Retain would stay Released after its
// first claim.
//
// It runs on the host, outside the cluster, with the admin kubeconfig, so
// it needs no image, no RBAC and no privileged pod to reach the
// directories. sig-storage-lib-external-provisioner does the watching,
// binding and retrying; this file only makes and removes directories.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/sig-storage-lib-external-provisioner/v13/controller"
)

func main() {
	var (
		kubeconfig = flag.String("kubeconfig", "", "the cluster's admin kubeconfig")
		dir        = flag.String("dir", "", "where each volume's directory is made")
		name       = flag.String("name", "sidequeue.dev/hostpath", "the provisioner name StorageClasses refer to")
		node       = flag.String("node", "", "the node the volumes are on (the PVs' node affinity)")
	)
	klog.InitFlags(nil)
	flag.Parse()
	if *kubeconfig == "" || *dir == "" || *node == "" {
		fmt.Fprintln(os.Stderr, "provisioner: -kubeconfig, -dir and -node are required")
		os.Exit(2)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		klog.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		klog.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	p := &hostPath{dir: *dir, node: *node}
	// One node, one provisioner process: no leader election to wait for.
	pc := controller.NewProvisionController(ctx, client, *name, p, controller.LeaderElection(false))
	klog.Infof("provisioning %s volumes under %s on node %s", *name, *dir, *node)
	pc.Run(ctx)
}

type hostPath struct {
	dir  string
	node string
}

// Provision makes <dir>/<pv name>, world-writable because the pods that
// mount it run as any uid (the project's image runs as 65532) and hostPath
// volumes ignore fsGroup.
func (h *hostPath) Provision(_ context.Context, o controller.ProvisionOptions) (*v1.PersistentVolume, controller.ProvisioningState, error) {
	if o.SelectedNodeName != "" && o.SelectedNodeName != h.node {
		return nil, controller.ProvisioningFinished, fmt.Errorf("node %q is not this provisioner's %q", o.SelectedNodeName, h.node)
	}
	path := filepath.Join(h.dir, o.PVName)
	if err := os.MkdirAll(path, 0o777); err != nil {
		return nil, controller.ProvisioningFinished, err
	}
	// MkdirAll's mode is masked by the umask.
	if err := os.Chmod(path, 0o777); err != nil {
		return nil, controller.ProvisioningFinished, err
	}
	hostPathType := v1.HostPathDirectory
	reclaim := v1.PersistentVolumeReclaimDelete
	if o.StorageClass.ReclaimPolicy != nil {
		reclaim = *o.StorageClass.ReclaimPolicy
	}
	pv := &v1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: o.PVName},
		Spec: v1.PersistentVolumeSpec{
			PersistentVolumeReclaimPolicy: reclaim,
			AccessModes:                   o.PVC.Spec.AccessModes,
			VolumeMode:                    o.PVC.Spec.VolumeMode,
			Capacity:                      v1.ResourceList{v1.ResourceStorage: o.PVC.Spec.Resources.Requests[v1.ResourceStorage]},
			MountOptions:                  o.StorageClass.MountOptions,
			PersistentVolumeSource: v1.PersistentVolumeSource{
				HostPath: &v1.HostPathVolumeSource{Path: path, Type: &hostPathType},
			},
			NodeAffinity: &v1.VolumeNodeAffinity{Required: &v1.NodeSelector{
				NodeSelectorTerms: []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{{
					Key: v1.LabelHostname, Operator: v1.NodeSelectorOpIn, Values: []string{h.node},
				}}}},
			}},
		},
	}
	klog.Infof("provisioned %s for claim %s/%s at %s", o.PVName, o.PVC.Namespace, o.PVC.Name, path)
	return pv, controller.ProvisioningFinished, nil
}

// Delete removes the PV's directory, only when it is one of ours.
func (h *hostPath) Delete(_ context.Context, pv *v1.PersistentVolume) error {
	if pv.Spec.HostPath == nil {
		return &controller.IgnoredError{Reason: "not a hostPath volume"}
	}
	path := filepath.Clean(pv.Spec.HostPath.Path)
	if filepath.Dir(path) != filepath.Clean(h.dir) || strings.HasPrefix(filepath.Base(path), ".") {
		return &controller.IgnoredError{Reason: fmt.Sprintf("%s is not under %s", path, h.dir)}
	}
	if err := os.RemoveAll(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	klog.Infof("deleted %s (%s)", pv.Name, path)
	return nil
}
