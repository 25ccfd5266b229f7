// Command linkcheck fails when a relative link in the given Markdown files
// does not resolve to a file or directory in the repository (`make lint`
// runs it over README.md, docs/ and the chart's README). Links to other
// sites, mail addresses and anchors within a page are not checked; the
// anchor part of a link to another file is dropped.
package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

var (
	inline    = regexp.MustCompile(`\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	reference = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$`)
	scheme    = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
	codeSpan  = regexp.MustCompile("`[^`]*`")
)

func main() {
	root, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "linkcheck:", err)
		os.Exit(2)
	}
	broken := 0
	for _, file := range os.Args[1:] {
		n, err := check(root, file)
		if err != nil {
			fmt.Fprintln(os.Stderr, "linkcheck:", err)
			os.Exit(2)
		}
		broken += n
	}
	if broken > 0 {
		fmt.Fprintf(os.Stderr, "linkcheck: %d broken links\n", broken)
		os.Exit(1)
	}
}

// check prints each broken link of file and returns how many there are.
func check(root, file string) (int, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", file, err)
	}
	defer f.Close()
	broken, fenced := 0, false
	lines := bufio.NewScanner(f)
	for n := 1; lines.Scan(); n++ {
		line := lines.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
		}
		if fenced {
			continue
		}
		for _, target := range targets(codeSpan.ReplaceAllString(line, "")) {
			if why := resolve(root, file, target); why != "" {
				fmt.Printf("%s:%d: %s: %s\n", file, n, target, why)
				broken++
			}
		}
	}
	return broken, lines.Err()
}

func targets(line string) []string {
	var out []string
	for _, m := range inline.FindAllStringSubmatch(line, -1) {
		out = append(out, m[1])
	}
	if m := reference.FindStringSubmatch(line); m != nil {
		out = append(out, m[1])
	}
	return out
}

// resolve returns why target, linked from file, is broken, or "".
func resolve(root, file, target string) string {
	if scheme.MatchString(target) || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "//") {
		return ""
	}
	path, _, _ := strings.Cut(target, "#")
	path, _, _ = strings.Cut(path, "?")
	var full string
	if strings.HasPrefix(path, "/") {
		full = filepath.Join(root, path) // relative to the repository, as GitHub shows it
	} else {
		full = filepath.Join(root, filepath.Dir(file), path)
	}
	rel, err := filepath.Rel(root, full)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "outside the repository"
	}
	if _, err := os.Stat(full); err != nil {
		return "no such file"
	}
	return ""
}
