package termination

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		message string
		want    Summary
		bad     bool
	}{
		{message: `{"drained":true,"depth":0}` + "\n", want: Summary{Drained: true}},
		{message: `{"drained":false,"depth":42}`, want: Summary{Depth: 42}},
		// Killed between writing a shorter summary and cutting the file:
		// the old one's tail follows the new line.
		{message: `{"drained":false,"depth":999}` + "\n" + "5}\n", want: Summary{Depth: 999}},
		{message: "", bad: true},
		{message: "\n", bad: true},
		{message: "panic: something else\n", bad: true},
		{message: `{"drained":true,"depth":3}`, bad: true},
		{message: `{"drained":false,"depth":-1}`, bad: true},
		{message: `{"drained":true,"depth":0,"x":1}`, bad: true},
	} {
		got, err := Parse(tc.message)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, error %v", tc.message, got, err, tc.want, tc.bad)
		}
	}
	if _, err := Parse("  \n"); !errors.Is(err, ErrNoSummary) {
		t.Errorf("empty message: %v, want ErrNoSummary", err)
	}
	if got, _ := Parse(string(Summary{Depth: 5}.Line())); got != (Summary{Depth: 5}) {
		t.Errorf("Line does not parse back: %+v", got)
	}
}
