package queued

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// authState is what an auth server (--auth-http-address) granted a client,
// in nsqd's JSON shape.
type authState struct {
	TTL            int             `json:"ttl"`
	Authorizations []authorization `json:"authorizations"`
	Identity       string          `json:"identity"`
	IdentityURL    string          `json:"identity_url"`
	expires        time.Time
	secret         string
	queried        bool
}

type authorization struct {
	Topic       string   `json:"topic"`
	Channels    []string `json:"channels"`
	Permissions []string `json:"permissions"`
}

func (a *authorization) allows(topic, channel string) bool {
	want := "publish"
	if channel != "" {
		want = "subscribe"
	}
	has := false
	for _, p := range a.Permissions {
		has = has || p == want
	}
	if !has {
		return false
	}
	if re, err := regexp.Compile(a.Topic); err != nil || !re.MatchString(topic) {
		return false
	}
	for _, c := range a.Channels {
		if re, err := regexp.Compile(c); err == nil && re.MatchString(channel) {
			return true
		}
	}
	return false
}

// queryAuth asks the auth servers, starting at a random one, for the
// client's authorizations.
func (c *client) queryAuth() error {
	addrs := c.d.opts().AuthHTTPAddresses
	v := url.Values{}
	host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
	v.Set("remote_ip", host)
	v.Set("tls", fmt.Sprint(c.tls.Load()))
	v.Set("secret", c.auth.secret)
	cn := ""
	if c.tlsConn != nil {
		if certs := c.tlsConn.ConnectionState().PeerCertificates; len(certs) > 0 {
			cn = certs[0].Subject.CommonName
		}
	}
	v.Set("common_name", cn)
	var errs []error
	start := rand.IntN(len(addrs))
	for i := range addrs {
		addr := addrs[(start+i)%len(addrs)]
		endpoint := "http://" + addr + "/auth?" + v.Encode()
		if strings.Contains(addr, "://") {
			endpoint = addr + "?" + v.Encode()
		}
		st, err := fetchAuth(endpoint)
		if err != nil {
			errs = append(errs, fmt.Errorf("failed to auth against %s - %w", addr, err))
			continue
		}
		st.secret, st.queried = c.auth.secret, true
		c.metaMu.Lock() // /stats reads it
		c.auth = st
		c.metaMu.Unlock()
		return nil
	}
	return errors.Join(errs...)
}

var authHTTP = &http.Client{Timeout: 5 * time.Second}

func fetchAuth(endpoint string) (authState, error) {
	var st authState
	resp, err := authHTTP.Get(endpoint)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("got response %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, err
	}
	for _, a := range st.Authorizations {
		for _, p := range a.Permissions {
			if p != "subscribe" && p != "publish" {
				return st, fmt.Errorf("unknown permission %s", p)
			}
		}
	}
	st.expires = time.Now().Add(time.Duration(st.TTL) * time.Second)
	return st, nil
}

// isAuthorized checks (re-querying once expired) a client's right to
// publish to topic, or with a channel, to subscribe.
func (c *client) isAuthorized(topic, channel string) (bool, error) {
	if !c.auth.queried {
		return false, nil
	}
	if c.auth.expires.Before(time.Now()) {
		if err := c.queryAuth(); err != nil {
			return false, err
		}
	}
	for i := range c.auth.Authorizations {
		if c.auth.Authorizations[i].allows(topic, channel) {
			return true, nil
		}
	}
	return false, nil
}
