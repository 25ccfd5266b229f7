// Package protocol holds what both daemons share of NSQ's wire format:
// frames, client errors and name rules.
package protocol

import "strings"

// EphemeralSuffix marks a topic or channel that lives only while in use.
const EphemeralSuffix = "#ephemeral"

// ValidName reports whether name is a valid NSQ topic or channel name:
// 1 to 64 characters of [.a-zA-Z0-9_-], optionally ending in "#ephemeral".
func ValidName(name string) bool {
	if len(name) < 1 || len(name) > 64 {
		return false
	}
	base := strings.TrimSuffix(name, EphemeralSuffix)
	if base == "" {
		return false
	}
	for i := 0; i < len(base); i++ {
		c := base[i]
		if !(c == '.' || c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Ephemeral reports whether a valid name marks an ephemeral topic or channel.
func Ephemeral(name string) bool { return strings.HasSuffix(name, EphemeralSuffix) }
