#!/usr/bin/env bash
# configs.sh NODE_IP: the dev cluster's configuration files, in
# $CLUSTER_DIR/config (containerd, the CNI network, kubelet, kube-proxy,
# CoreDNS, and the objects up.sh applies) and $CLUSTER_DIR/cni/net.d.
# Each file is written only when its content changes: kube-proxy exits
# whenever its config file is written, even with the same bytes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/cluster/lib.sh
source "$here/lib.sh"
ip="$1"
D="$CLUSTER_DIR"

write_if_changed() { # FILE < content
	local tmp
	tmp="$(mktemp "$1.XXXXXX")"
	cat >"$tmp"
	if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; fi
}

# containerd: its own socket, root, state and runc root under $D, so it
# neither meets nor disturbs another containerd on the machine.
# restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE, and without it
# every sandbox fails with "can't get final child's PID from pipe".
# No systemd: cgroupfs. The netns mounts go under the state dir too.
write_if_changed "$conf/containerd.toml" <<TOML
version = 2
root = "$D/containerd/root"
state = "$D/containerd/state"
oom_score = 0

[grpc]
  address = "$CONTAINERD_SOCK"

[plugins."io.containerd.internal.v1.opt"]
  path = "$D/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$D/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$D/cni/net.d"
TOML

# One bridge, cni0, with the node's pod range; host-local keeps its IP
# allocations under $D too. portmap serves hostPort.
write_if_changed "$D/cni/net.d/10-sidequeue.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "sidequeue-dev",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$D/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON

# kubelet: cgroupfs and cgroup v1 allowed (no systemd here); images are
# imported, never pulled, so image GC must never remove one (threshold
# 100%); eviction thresholds low, as the disk is shared with everything else.
write_if_changed "$conf/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$pki/ca.crt"}
authorization: {mode: Webhook}
healthzBindAddress: 127.0.0.1
healthzPort: 10248
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: "unix://$CONTAINERD_SOCK"
clusterDNS: ["$DNS_SERVICE_IP"]
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
podLogsDir: "$D/pod-logs"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
serializeImagePulls: false
YAML

# kube-proxy: iptables; conntrack settings left as they are (0 = do not
# touch) and no localhost NodePorts (which would set route_localnet).
write_if_changed "$conf/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: "$conf/kube-proxy.kubeconfig"
mode: iptables
clusterCIDR: "$CLUSTER_CIDR"
hostnameOverride: "$NODE_NAME"
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
iptables:
  localhostNodePorts: false
YAML

# CoreDNS on the host, on the node's address (pods reach it through the
# kube-dns Service); names outside the cluster go to the host's resolvers.
write_if_changed "$conf/Corefile" <<COREFILE
.:53 {
    bind $ip
    errors
    health 127.0.0.1:10054
    ready 127.0.0.1:10181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $KUBECONFIG_ADMIN
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    loop
    cache 30
    forward . /etc/resolv.conf
}
COREFILE

write_if_changed "$conf/cluster-objects.yaml" <<YAML
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns}
spec:
  clusterIP: "$DNS_SERVICE_IP"
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-host
  namespace: kube-system
  labels:
    kubernetes.io/service-name: kube-dns
    endpointslice.kubernetes.io/managed-by: up.sh.sidequeue.dev
addressType: IPv4
endpoints:
- addresses: ["$ip"]
  conditions: {ready: true}
  nodeName: "$NODE_NAME"
ports:
- {name: dns, port: 53, protocol: UDP}
- {name: dns-tcp, port: 53, protocol: TCP}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: sidequeue.dev/hostpath
reclaimPolicy: Delete
volumeBindingMode: WaitForFirstConsumer
YAML
