package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procID names a process for as long as it lives: a pid may be reused, a
// pid with its start time may not.
type procID struct {
	pid   int
	comm  string
	start string
}

func (p procID) String() string { return fmt.Sprintf("%s(%d)", p.comm, p.pid) }

// alive says whether the process still runs; a zombie has stopped running.
func (p procID) alive() bool {
	st, ok := readStat(p.pid)
	return ok && st.start == p.start && st.state != "Z"
}

type stat struct {
	procID
	ppid  int
	state string
}

// readStat parses /proc/<pid>/stat; comm, in parentheses, may hold spaces.
func readStat(pid int) (stat, bool) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return stat{}, false
	}
	s := string(data)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return stat{}, false
	}
	fields := strings.Fields(s[closing+1:]) // state ppid ... starttime is the 20th
	if len(fields) < 20 {
		return stat{}, false
	}
	ppid, _ := strconv.Atoi(fields[1])
	return stat{procID: procID{pid: pid, comm: s[open+1 : closing], start: fields[19]}, ppid: ppid, state: fields[0]}, true
}

// descendants lists every living process below pid.
func descendants(pid int) []procID {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]stat{}
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readStat(n); ok && st.state != "Z" {
			children[st.ppid] = append(children[st.ppid], st)
		}
	}
	var out []procID
	queue := []int{pid}
	for len(queue) > 0 {
		for _, c := range children[queue[0]] {
			out = append(out, c.procID)
			queue = append(queue, c.pid)
		}
		queue = queue[1:]
	}
	return out
}
