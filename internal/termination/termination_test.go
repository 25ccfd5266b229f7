package termination

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	for msg, want := range map[string]Summary{
		`{"drained":true,"depth":0}`:                                        {Drained: true},
		"{\"drained\":false,\"depth\":20000}\n":                             {Depth: 20000},
		"{\"drained\":false,\"depth\":7}\n{\"drained\":true,\"depth\":0}\n": {Drained: true},
	} {
		got, err := Parse(msg)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", msg, got, err, want)
		}
	}
	if _, err := Parse("  \n"); !errors.Is(err, ErrNoSummary) {
		t.Errorf("empty message: %v, want ErrNoSummary", err)
	}
	for _, bad := range []string{"panic: oops", `{"drained":true,"depth":3}`, `{"drained":false,"depth":-1}`, `{"drained":true,"depth":0,"x":1}`} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	if got, _ := Parse(string(Summary{Depth: 5}.Line())); got != (Summary{Depth: 5}) {
		t.Errorf("Line does not parse back: %+v", got)
	}
}
