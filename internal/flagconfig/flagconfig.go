// Package flagconfig reads a --config file the way nsqd and nsqlookupd do:
// a TOML file whose keys are the flag names with underscores
// (tcp_address = "0.0.0.0:4150"). A flag given on the command line wins over
// the file, and the file over the default.
package flagconfig

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Apply sets, from the TOML file at path, every flag of fs that the command
// line did not set. keys maps a flag name to its config key where that is
// not the flag name with underscores (nsqd's lookupd-tcp-address is
// nsqlookupd_tcp_addresses). Keys for no flag are returned, so the caller
// can warn about them: nsqd ignores them, and so a file written for nsqd,
// with its statsd options, still loads.
func Apply(fs *flag.FlagSet, path string, keys map[string]string) (unknown []string, err error) {
	var cfg map[string]any
	if _, err := toml.DecodeFile(path, &cfg); err != nil {
		return nil, fmt.Errorf("--config %s: %w", path, err)
	}
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	used := map[string]bool{}
	var errs []string
	fs.VisitAll(func(f *flag.Flag) {
		key := keys[f.Name]
		if key == "" {
			key = strings.ReplaceAll(f.Name, "-", "_")
		}
		v, ok := cfg[key]
		if !ok {
			return
		}
		used[key] = true
		if onCommandLine[f.Name] {
			return
		}
		if err := set(fs, f.Name, v); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", key, err))
		}
	})
	for key := range cfg {
		if !used[key] {
			unknown = append(unknown, key)
		}
	}
	slices.Sort(unknown)
	if len(errs) > 0 {
		return unknown, fmt.Errorf("--config %s: %s", path, strings.Join(errs, "; "))
	}
	return unknown, nil
}

// set gives a flag a config value: a list sets a repeatable flag once per
// element; an integer for a duration is milliseconds, as nsqd's options
// package reads it (msg_timeout = 60000 is a minute); anything else is set
// from its text.
func set(fs *flag.FlagSet, name string, v any) error {
	if ms, ok := v.(int64); ok && isDuration(fs.Lookup(name)) {
		return fs.Set(name, (time.Duration(ms) * time.Millisecond).String())
	}
	if list, ok := v.([]any); ok {
		for _, item := range list {
			if err := fs.Set(name, fmt.Sprint(item)); err != nil {
				return err
			}
		}
		return nil
	}
	return fs.Set(name, fmt.Sprint(v))
}

func isDuration(f *flag.Flag) bool {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	_, ok = g.Get().(time.Duration)
	return ok
}
