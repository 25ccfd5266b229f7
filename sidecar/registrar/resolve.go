package registrar

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"time"
)

// maxLookupTime bounds one name lookup, so that a hung DNS server cannot
// stall the loop for long. (Close cancels lookups at once.)
const maxLookupTime = 5 * time.Second

// endpoint is one configured lookupd address.
type endpoint struct {
	addr, host, port string
	literal          bool // host is an IP: never resolved
}

// resolution turns the configured addresses into connection targets. Owned
// by the resolve loop goroutine alone, so unlocked.
type resolution struct {
	opts      Options
	endpoints []endpoint
	last      map[string][]string // name address → last good targets
	lastErr   map[string]string   // name address → last error logged
}

func newResolution(opts Options) *resolution {
	res := &resolution{opts: opts, last: map[string][]string{}, lastErr: map[string]string{}}
	for _, addr := range opts.Addresses {
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host == "" || port == "" {
			opts.Logf("LOOKUP(%s): ignoring invalid address: want host:port", addr)
			continue
		}
		res.endpoints = append(res.endpoints, endpoint{addr, host, port, net.ParseIP(host) != nil})
	}
	return res
}

// targets returns the sorted, de-duplicated "IP:port" set to be connected to.
func (res *resolution) targets(ctx context.Context) []string {
	var all []string
	for _, ep := range res.endpoints {
		if ep.literal {
			all = append(all, net.JoinHostPort(ep.host, ep.port))
			continue
		}
		all = append(all, res.resolve(ctx, ep)...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// resolve looks a name up. On failure it keeps the name's previous targets:
// a DNS outage must not tear down working registrations, and a lookupd that
// is really gone fails its own connection anyway.
func (res *resolution) resolve(ctx context.Context, ep endpoint) []string {
	lookupCtx, cancel := context.WithTimeout(ctx, maxLookupTime)
	defer cancel()
	hosts, err := res.opts.Resolver.LookupHost(lookupCtx, ep.host)
	if err == nil && len(hosts) == 0 {
		err = errors.New("no addresses")
	}
	if err != nil {
		if ctx.Err() == nil { // not worth a line when Close interrupted it
			res.logErr(ep.addr, err)
		}
		return res.last[ep.addr]
	}
	delete(res.lastErr, ep.addr)
	targets := toTargets(hosts, ep.port)
	if !slices.Equal(targets, res.last[ep.addr]) {
		res.opts.Logf("LOOKUP(%s): resolved to %s", ep.addr, strings.Join(targets, " "))
	}
	res.last[ep.addr] = targets
	return targets
}

// logErr logs a lookup failure once, not again until its text changes or a
// lookup has succeeded in between.
func (res *resolution) logErr(addr string, err error) {
	if res.lastErr[addr] == err.Error() {
		return
	}
	res.lastErr[addr] = err.Error()
	res.opts.Logf("LOOKUP(%s): resolving failed, keeping %d previous address(es): %s",
		addr, len(res.last[addr]), err)
}

// toTargets combines resolver answers with the configured port (see
// Resolver) and keeps one address family: IPv4 if there is any, else IPv6.
// A dual-stack name (a dual-stack headless Service, or "localhost") has an
// IPv4 and an IPv6 address for each lookupd; connecting to both would
// register this daemon twice with the same lookupd, and nsqlookupd would list
// it twice.
func toTargets(hosts []string, port string) []string {
	var v4, v6 []string
	for _, h := range hosts {
		host, p, err := net.SplitHostPort(h)
		if err != nil {
			host, p = h, port // a bare IP
		}
		target := net.JoinHostPort(host, p)
		if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
			v6 = append(v6, target)
		} else {
			v4 = append(v4, target)
		}
	}
	out := v4
	if len(out) == 0 {
		out = v6
	}
	slices.Sort(out)
	return slices.Compact(out)
}
