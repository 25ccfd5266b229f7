#!/usr/bin/env bash
# Brings up a single-node Kubernetes cluster on this machine, as processes
# of the host (docs/design/dev-cluster.md): etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, containerd (Debian's), kubelet,
# kube-proxy, CoreDNS and a hostPath volume provisioner. Everything is
# built from source by build.sh except what deps.sh installs from Debian.
#
# Idempotent: a part already running is left alone, so running it twice is
# fine. All state is under CLUSTER_DIR (default bin/cluster/), every PID in
# its pids/, every log in its logs/; down.sh undoes it all. The admin
# kubeconfig is $CLUSTER_DIR/kubeconfig.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/cluster/lib.sh
source "$here/lib.sh"
start_time=$SECONDS

[[ "$(id -u)" == 0 ]] || { echo "cluster: up.sh runs as root (containerd, kubelet, iptables)" >&2; exit 1; }
"$here/deps.sh"
GO="${GO:-go}" "$here/build.sh"
if ! compgen -G "$root/bin/image/*.tar" >/dev/null; then
	log "building the project image (make image)"
	"${GO:-go}" -C "$root/hack/image" run . >/dev/null
fi

if other="$(other_cluster)"; then
	echo "cluster: another dev cluster runs on this machine, from $other: stop it first (CLUSTER_DIR=$other $here/down.sh)" >&2
	exit 1
fi
mkdir -p "$CLUSTER_DIR"
echo "$CLUSTER_DIR" >"$OWNER_FILE"

ip="$(node_ip)"
log "state in $CLUSTER_DIR, node $NODE_NAME at $ip"
mkdir -p "$pki" "$logs" "$pids" "$conf" "$CLUSTER_DIR"/{etcd,kubelet,pod-logs,volumes,cni/net.d,cni/ipam} \
	"$CLUSTER_DIR"/containerd/{root,state,run,runc,opt}

# Kernel settings: pods' traffic is forwarded and goes through iptables on
# the bridge. The kubelet sets a few more of its own. Their values before
# the first up are kept for down.sh to restore.
sysctls=(net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
	vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
	kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.conf.all.route_localnet)
# The bridge settings only exist with br_netfilter, a module on some kernels
# and built in on others (where modprobe fails, harmlessly).
modprobe br_netfilter 2>/dev/null || true
modprobe overlay 2>/dev/null || true
if [[ ! -f "$CLUSTER_DIR/sysctl.saved" ]]; then
	for s in "${sysctls[@]}"; do
		v="$(sysctl -n "$s" 2>/dev/null)" && printf '%s=%s\n' "$s" "$v"
	done >"$CLUSTER_DIR/sysctl.saved"
fi
sysctl -q -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1

# --- certificates: one CA; a serving certificate for the API server, a
# client certificate per component, named as RBAC's bootstrap roles expect.
"$here/certs.sh" "$pki" "$ip" "$NODE_NAME" "$API_SERVICE_IP"

kubeconfig() { # NAME CERT
	local f="$conf/$1.kubeconfig" k=("$k8sbin/kubectl" config --kubeconfig "$conf/$1.kubeconfig.new")
	[[ -f "$f" ]] && return 0
	rm -f "$f.new"
	"${k[@]}" set-cluster dev --server "https://127.0.0.1:$API_PORT" --certificate-authority "$pki/ca.crt" --embed-certs >/dev/null
	"${k[@]}" set-credentials "$2" --client-certificate "$pki/$2.crt" --client-key "$pki/$2.key" --embed-certs >/dev/null
	"${k[@]}" set-context dev --cluster dev --user "$2" >/dev/null
	"${k[@]}" use-context dev >/dev/null
	mv "$f.new" "$f"
}
for c in admin controller-manager scheduler kubelet kube-proxy; do kubeconfig "$c" "$c"; done
cp -p "$conf/admin.kubeconfig" "$KUBECONFIG_ADMIN"

# --- configuration files
"$here/configs.sh" "$ip"

# start NAME BINARY ARGS...: runs BINARY in a session of its own, so it
# outlives this script and a Ctrl-C of it, with its output in logs/NAME.log
# and its PID in pids/NAME.pid for down.sh.
start() {
	local name="$1" bin="$2"
	shift 2
	if running "$name"; then
		log "$name: already running (pid $(cat "$pids/$name.pid"))"
		return 0
	fi
	log "$name: starting"
	readlink -f "$bin" >"$pids/$name.exe"
	setsid "$bin" "$@" >>"$logs/$name.log" 2>&1 </dev/null &
	echo $! >"$pids/$name.pid"
}

# port_free PORT...: a port a component needs is not held by something
# else (another cluster, a test), which would fail it in a confusing way.
port_free() {
	local p
	for p in "$@"; do
		if [[ -n "$(ss -Htln "sport = :$p")" ]]; then
			echo "cluster: port $p is in use: $(ss -Htlnp "sport = :$p" | head -1)" >&2
			exit 1
		fi
	done
}
start_checked() { # NAME "PORTS" BINARY ARGS...
	local name="$1" ports="$2"
	shift 2
	# shellcheck disable=SC2086 # PORTS is a list
	running "$name" || port_free $ports
	start "$name" "$@"
}

start_checked etcd "2379 2380" "$k8sbin/etcd" --name default --data-dir "$CLUSTER_DIR/etcd" \
	--listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
	--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
	--initial-cluster default=http://127.0.0.1:2380 --unsafe-no-fsync

start_checked kube-apiserver "$API_PORT" "$k8sbin/kube-apiserver" \
	--etcd-servers http://127.0.0.1:2379 --secure-port "$API_PORT" --advertise-address "$ip" \
	--cert-dir "$CLUSTER_DIR/apiserver" --service-cluster-ip-range "$SERVICE_CIDR" \
	--client-ca-file "$pki/ca.crt" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
	--kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
	--kubelet-preferred-address-types InternalIP \
	--service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
	--service-account-issuer https://kubernetes.default.svc.cluster.local \
	--authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction --allow-privileged=true --profiling=false
log "waiting for the API server"
wait_for "the API server's /readyz" 90 kubectl_ get --raw /readyz

start_checked kube-controller-manager 10257 "$clbin/kube-controller-manager" \
	--kubeconfig "$conf/controller-manager.kubeconfig" \
	--authentication-kubeconfig "$conf/controller-manager.kubeconfig" \
	--authorization-kubeconfig "$conf/controller-manager.kubeconfig" \
	--bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials \
	--service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
	--cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
	--allocate-node-cidrs --cluster-cidr "$CLUSTER_CIDR" --node-cidr-mask-size 24 \
	--service-cluster-ip-range "$SERVICE_CIDR"
start_checked kube-scheduler 10259 "$clbin/kube-scheduler" --kubeconfig "$conf/scheduler.kubeconfig" \
	--authentication-kubeconfig "$conf/scheduler.kubeconfig" --authorization-kubeconfig "$conf/scheduler.kubeconfig" \
	--bind-address 127.0.0.1 --leader-elect=false

start containerd "$(command -v containerd)" --config "$conf/containerd.toml"
wait_for "containerd" 30 ctr_ version

# Images: the pause image first (no pod starts without it), then the
# project's (make image) and every tarball in bin/images/ (test images).
log "importing images"
"$here/load.sh" "$clbin/pause.tar" "$root"/bin/image/*.tar
if compgen -G "$root/bin/images/*.tar" >/dev/null; then
	"$here/load.sh" "$root"/bin/images/*.tar
fi

start_checked kubelet "10250 10248" "$clbin/kubelet" --config "$conf/kubelet.yaml" \
	--kubeconfig "$conf/kubelet.kubeconfig" --root-dir "$CLUSTER_DIR/kubelet" \
	--cert-dir "$CLUSTER_DIR/kubelet/pki" --hostname-override "$NODE_NAME" --node-ip "$ip"
start_checked kube-proxy "10249 10256" "$clbin/kube-proxy" --config "$conf/kube-proxy.yaml"
start_checked coredns "53 10054 10181" "$clbin/coredns" -conf "$conf/Corefile" -pidfile ""
start provisioner "$clbin/provisioner" -kubeconfig "$KUBECONFIG_ADMIN" -dir "$CLUSTER_DIR/volumes" -node "$NODE_NAME"

log "waiting for node $NODE_NAME to be Ready"
wait_for "node $NODE_NAME" 60 kubectl_ get node "$NODE_NAME"
kubectl_ wait --for=condition=Ready "node/$NODE_NAME" --timeout=120s >/dev/null

# The cluster DNS is CoreDNS on the host: a Service without a selector at
# $DNS_SERVICE_IP whose EndpointSlice is the node's address; the default
# StorageClass is the provisioner's.
kubectl_ apply --server-side --force-conflicts -f "$conf/cluster-objects.yaml" >/dev/null
log "waiting for CoreDNS"
wait_for "CoreDNS /ready" 60 curl -fsS http://127.0.0.1:10181/ready
# No pod can be created in a namespace before its ServiceAccount exists.
wait_for "the default ServiceAccount" 60 kubectl_ get serviceaccount default -n default

log "up in $((SECONDS - start_time))s"
kubectl_ get nodes -o wide
echo
echo "kubeconfig: $KUBECONFIG_ADMIN"
echo "  export KUBECONFIG=$KUBECONFIG_ADMIN"
