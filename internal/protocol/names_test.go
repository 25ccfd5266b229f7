package protocol

import (
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"a": true, "topic.name_1-x": true, "t#ephemeral": true, strings.Repeat("a", 64): true,
		"": false, "#ephemeral": false, "a b": false, "a/b": false, "a#eph": false,
		strings.Repeat("a", 65): false, "ä": false, "a#ephemeral#ephemeral": false,
	} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}
}
