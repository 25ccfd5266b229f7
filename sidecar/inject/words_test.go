package inject

import (
	"slices"
	"testing"
)

func TestSplitWords(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]string{
		"":                                  nil,
		"  \n\t ":                           nil,
		"--a=1  --b 2\n--c":                 {"--a=1", "--b", "2", "--c"},
		`--a='x y' --b="x y"`:               {"--a=x y", "--b=x y"},
		`--a='it''s' --b=""`:                {"--a=its", "--b="},
		`''`:                                {""},
		`--a="say \"hi\" \$HOME \n"`:        {`--a=say "hi" $HOME \n`},
		`--a='\"kept\"'`:                    {`--a=\"kept\"`},
		`--a=x\ y --b=\'`:                   {"--a=x y", "--b='"},
		"--a=1 \\\n--b=2":                   {"--a=1", "--b=2"},
		`--tls-cert=/etc/tls/"my cert".pem`: {"--tls-cert=/etc/tls/my cert.pem"},
	} {
		got, err := splitWords(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`--a='x`, `--a="x`, `--a=x\`, `"\"`} {
		if got, err := splitWords(in); err == nil {
			t.Errorf("splitWords(%q) = %q, want an error", in, got)
		}
	}
}
