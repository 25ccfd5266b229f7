package inject

import (
	"errors"
	"strings"
)

// splitWords splits sidequeue.io/queued-flags as a POSIX shell splits a
// command line, without its expansions (no $VAR, no globs): blanks
// separate words; 'single quotes' keep every character; "double quotes"
// keep every character but a backslash before $ ` " \ or a newline; a
// backslash outside quotes keeps the next character. A YAML block scalar's
// newlines are blanks like any other.
func splitWords(s string) ([]string, error) {
	var (
		words  []string
		word   strings.Builder
		inWord bool // a word has started, even an empty one such as ''
	)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		case '\\':
			if i++; i == len(s) {
				return nil, errors.New("the value ends in a backslash")
			}
			if s[i] != '\n' { // a backslash-newline joins two lines
				word.WriteByte(s[i])
				inWord = true
			}
		case '\'', '"':
			end, err := quoted(s, i, &word)
			if err != nil {
				return nil, err
			}
			i, inWord = end, true
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

// quoted writes the quoted text that starts at s[open] (a quote) to word
// and returns the index of its closing quote.
func quoted(s string, open int, word *strings.Builder) (int, error) {
	q := s[open]
	for i := open + 1; i < len(s); i++ {
		switch {
		case s[i] == q:
			return i, nil
		case q == '"' && s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0:
			i++
			if s[i] != '\n' {
				word.WriteByte(s[i])
			}
		default:
			word.WriteByte(s[i])
		}
	}
	return 0, errors.New("a quote (" + string(q) + ") is not closed")
}
