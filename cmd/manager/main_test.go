package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/sidequeue/sidequeue/internal/testutil"
)

func TestCommandLine(t *testing.T) {
	bin := testutil.Build(t, "manager", ".")
	testutil.CheckCLI(t, bin, "manager", about)
}

// The flags the guide names, controller-runtime's and zap's among them.
func TestFlagsOfOthers(t *testing.T) {
	for _, arg := range []string{"--kubeconfig=/dev/null", "--zap-log-level=debug", "--zap-devel", "--leader-elect"} {
		if _, err := parseFlags([]string{arg}); err != nil {
			t.Errorf("%s: %v", arg, err)
		}
	}
}

// Logs are text at a terminal and JSON elsewhere, unless --zap-encoder
// says otherwise.
func TestLogFormat(t *testing.T) {
	for _, c := range []struct {
		terminal bool
		args     []string
		console  bool
	}{
		{true, nil, true},
		{false, nil, false},
		{true, []string{"--zap-encoder=json"}, false},
		{false, []string{"--zap-encoder=console"}, true},
	} {
		o := logDefaults(c.terminal)
		fs := flag.NewFlagSet("manager", flag.ContinueOnError)
		o.BindFlags(fs)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		if o.NewEncoder == nil {
			if c.console {
				t.Errorf("terminal %v %v: no encoder, want console", c.terminal, c.args)
			}
			continue // controller-runtime's default: JSON, as production
		}
		enc := o.NewEncoder()
		if got := fmt.Sprintf("%T", enc); strings.Contains(got, "consoleEncoder") != c.console {
			t.Errorf("terminal %v %v: encoder %s, console wanted: %v", c.terminal, c.args, got, c.console)
		}
	}
}

// Each controller reconciles several objects at once, 4 by default; fewer
// than one is refused with the flag's name.
func TestMaxConcurrentReconciles(t *testing.T) {
	c, err := parseFlags(nil)
	if err != nil || c.maxConcurrentReconciles != defaultConcurrentReconciles {
		t.Fatalf("default: %+v, %v", c, err)
	}
	if c, err := parseFlags([]string{"--max-concurrent-reconciles=8"}); err != nil || c.maxConcurrentReconciles != 8 {
		t.Fatalf("=8: %v", err)
	}
	if _, err := parseFlags([]string{"--max-concurrent-reconciles=0"}); err == nil || !strings.Contains(err.Error(), "--max-concurrent-reconciles=0") {
		t.Fatalf("=0: %v, want refused naming the flag", err)
	}
}

// A reconcile error is one log line, as an operator reads it; the flag
// brings stack traces back for whoever debugs.
func TestErrorLinesCarryNoStackTrace(t *testing.T) {
	for _, c := range []struct {
		args  []string
		trace bool
	}{{nil, false}, {[]string{"--zap-stacktrace-level=error"}, true}} {
		o := logDefaults(false)
		fs := flag.NewFlagSet("manager", flag.ContinueOnError)
		o.BindFlags(fs)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		o.DestWriter = &out
		zap.New(zap.UseFlagOptions(&o)).Error(errors.New("boom"), "Reconciler error")
		if got := strings.Contains(out.String(), `"stacktrace"`); got != c.trace {
			t.Errorf("%v: stack trace in %q: %v, want %v", c.args, out.String(), got, c.trace)
		}
	}
}

// The webhook refuses queued-flags the sidecar would not start with, or
// would never be ready with, naming the fix; it accepts the TLS a sidecar
// can run with.
func TestValidateQueuedFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string // "" when accepted
	}{
		{[]string{"--tls-required=tcp-https", "--tls-cert=/c.pem", "--tls-key=/k.pem"}, ""},
		{[]string{"--tls-cert=/c.pem", "--tls-key=/k.pem"}, ""},
		{[]string{"--tls-required=true", "--tls-cert=/c.pem", "--tls-key=/k.pem"}, "--tls-required=tcp-https"},
		{[]string{"--tls-client-auth-policy=require", "--tls-cert=/c.pem", "--tls-key=/k.pem"}, "--tls-required=tcp-https"},
		{[]string{"--tls-required=tcp-https"}, "--tls-cert and --tls-key"},
		{[]string{"--sync-every=0"}, "--sync-every"},
	} {
		err := validateQueuedFlags(c.args)
		switch {
		case c.says == "" && err != nil:
			t.Errorf("%v refused: %v", c.args, err)
		case c.says != "" && (err == nil || !strings.Contains(err.Error(), c.says)):
			t.Errorf("%v: error %v, want one saying %q", c.args, err, c.says)
		}
	}
}
