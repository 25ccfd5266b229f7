package install

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The least-privilege check, driven by the rendered Role and ClusterRole:
// every (verb, resource) they grant must appear in the audit log as a
// request of the chart's ServiceAccount, the Role's in the release
// namespace only, and no request of the account may have been denied. A
// new rule needs only a behaviour that uses it (exerciseControllers, the
// webhook, the certificates); a rule nothing uses fails here.

// auditEvent is what the check reads of an audit.k8s.io/v1 Event.
type auditEvent struct {
	Verb string `json:"verb"`
	// The manager's requests are admin's impersonating the account.
	ImpersonatedUser *struct{ Username string } `json:"impersonatedUser"`
	ObjectRef        *struct {
		Resource, Subresource, Namespace, Name, APIGroup string
	} `json:"objectRef"`
	ResponseStatus *struct{ Code int } `json:"responseStatus"`
	Annotations    map[string]string   `json:"annotations"`
}

// use is one permission as a request exercises it.
type use struct{ verb, group, resource, namespace, name string }

// notReachable are permissions the manager needs that no test can see
// used in the time it runs, each with why it is granted.
var notReachable = map[string]string{
	"events.k8s.io events patch": "client-go's events broadcaster patches an event series only when it refreshes it, every 30 minutes",
}

// impliedBy are permissions no request carries but the API server checks
// on another: setting an ownerReference with blockOwnerDeletion needs
// update on the owner's finalizers (OwnerReferencesPermissionEnforcement,
// on in this API server), when the manager creates its Lookups' objects.
// The same plugin wants delete on an object whose ownerReferences change:
// the Backlog controller's patch of a claim.
var impliedBy = map[string]string{
	"sidequeue.io lookups/finalizers update":  "apps deployments create",
	"sidequeue.io backlogs/finalizers update": "batch jobs create",
	`"" persistentvolumeclaims delete`:        `"" persistentvolumeclaims patch`,
}

// A cache's informer lists, then watches; against an API server that
// streams the list in the watch (WatchListClient, as this one does) it
// only watches, but it lists where the server does not: list is used
// wherever watch is.
func listAsWatch(key string) string {
	if rest, ok := strings.CutSuffix(key, " list"); ok {
		return rest + " watch"
	}
	return key
}

func assertLeastPrivilege(t *testing.T, r *rendered) {
	t.Helper()
	uses := readAudit(t)
	if len(uses) == 0 {
		t.Fatal("the audit log holds no request of the ServiceAccount")
	}
	for _, o := range []*unstructured.Unstructured{r.find(t, "ClusterRole", "sidequeue-manager"), r.find(t, "Role", "sidequeue-manager")} {
		for _, rl := range rules(o) {
			for _, g := range rl.APIGroups {
				for _, res := range rl.Resources {
					for _, v := range rl.Verbs {
						checkUsed(t, o, rl, uses, g, res, v)
					}
				}
			}
		}
	}
}

// checkUsed fails t unless some request used verb on group/res within
// what the rule allows (its names; a Role's namespace).
func checkUsed(t *testing.T, role *unstructured.Unstructured, rl rule, uses map[use]bool, g, res, v string) {
	t.Helper()
	key := strings.TrimSpace(g + " " + res + " " + v)
	if g == "" {
		key = `"" ` + res + " " + v
	}
	if why, ok := notReachable[key]; ok {
		t.Logf("%s %s: granted, not exercised here: %s", role.GetKind(), key, why)
		return
	}
	if other, ok := impliedBy[key]; ok {
		f := strings.Fields(other)
		g, res, v = strings.Trim(f[0], `"`), f[1], f[2]
	} else if listAsWatch(key) != key {
		v = "watch"
	}
	for u := range uses {
		if u.verb != v || u.group != g || u.resource != res {
			continue
		}
		if len(rl.ResourceNames) > 0 && !slices.Contains(rl.ResourceNames, u.name) {
			continue
		}
		if role.GetKind() == "Role" && u.namespace != role.GetNamespace() {
			t.Errorf("%s %s used in namespace %q, outside the Role's %q", role.GetKind(), key, u.namespace, role.GetNamespace())
			continue
		}
		return
	}
	t.Errorf("%s grants %s (names %v) and the manager never used it: remove the grant, or exercise what needs it", role.GetKind(), key, rl.ResourceNames)
}

// readAudit is every permission the ServiceAccount's requests used; it
// fails t for any request that was denied, naming what was missing. A
// server-side apply that created its object used create as well as patch.
func readAudit(t *testing.T) map[use]bool {
	t.Helper()
	f, err := os.Open(auditLog)
	must(t, err)
	defer f.Close()
	uses := map[use]bool{}
	denied := map[string]bool{}
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		var e auditEvent
		must(t, json.Unmarshal(s.Bytes(), &e))
		if e.ImpersonatedUser == nil || e.ImpersonatedUser.Username != serviceAccountUser || e.ObjectRef == nil {
			continue
		}
		res := e.ObjectRef.Resource
		if e.ObjectRef.Subresource != "" {
			res += "/" + e.ObjectRef.Subresource
		}
		u := use{e.Verb, e.ObjectRef.APIGroup, res, e.ObjectRef.Namespace, e.ObjectRef.Name}
		if d := e.Annotations["authorization.k8s.io/decision"]; d != "" && d != "allow" {
			denied[u.verb+" "+u.group+" "+u.resource+" in "+u.namespace+" ("+e.Annotations["authorization.k8s.io/reason"]+")"] = true
			continue
		}
		uses[u] = true
		if u.verb == "patch" && e.ResponseStatus != nil && e.ResponseStatus.Code == 201 {
			u.verb = "create"
			uses[u] = true
		}
	}
	must(t, s.Err())
	var list []string
	for d := range denied {
		list = append(list, d)
	}
	sort.Strings(list)
	for _, d := range list {
		t.Errorf("the ServiceAccount was denied: %s", d)
	}
	return uses
}
