// Command coredns is CoreDNS with the few plugins the dev cluster's DNS
// needs (hack/cluster/up.sh runs it as the cluster DNS on the host): the
// kubernetes plugin answers for cluster.local from the API server, forward
// sends everything else to the host's resolvers, bind keeps it to the
// node's address, and errors, health, ready, cache, log and loop as in
// the kubeadm Corefile.
//
// Building only these plugins keeps the binary and its cold build small
// (the full CoreDNS has about 60).
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	// The plugins, registered by their init functions.
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
)

func init() {
	// The order plugins run in: CoreDNS's plugin.cfg order, less the
	// plugins not built in (Directives would otherwise list all of them).
	dnsserver.Directives = []string{
		"bind",
		"ready",
		"health",
		"errors",
		"log",
		"cache",
		"kubernetes",
		"loop",
		"forward",
	}
}

func main() {
	coremain.Run()
}
