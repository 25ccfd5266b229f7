package diskqueue

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

const (
	crashChildEnv  = "SIDEQUEUE_DISKQUEUE_CRASH_CHILD" // "dir round"
	crashWriters   = 8
	crashRounds    = 20
	crashRecordLen = 200
)

// crashRecord is round, writer and sequence number, padded to 200 bytes.
func crashRecord(round, writer, seq int) []byte {
	b := make([]byte, crashRecordLen)
	binary.BigEndian.PutUint32(b[0:], uint32(round))
	binary.BigEndian.PutUint32(b[4:], uint32(writer))
	binary.BigEndian.PutUint32(b[8:], uint32(seq))
	return b
}

func crashOptions() Options {
	o := NewOptions()
	o.SyncEvery = 1
	o.MaxBytesPerFile = 64 * 1024 // many rolls, so some kills land in one
	return o
}

// TestCrashChild is the process the SIGKILL test kills: 8 goroutines Put
// durably and print each acknowledged record's number on stdout.
func TestCrashChild(t *testing.T) {
	arg := os.Getenv(crashChildEnv)
	if arg == "" {
		t.Skip("run by TestSIGKILLLosesNoAcknowledgedRecord")
	}
	dir, roundText, _ := strings.Cut(arg, " ")
	round, _ := strconv.Atoi(roundText)
	q, err := Open(dir, "crash", crashOptions())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	acks := make(chan string, 4096)
	go func() {
		w := bufio.NewWriter(os.Stdout)
		for line := range acks {
			w.WriteString(line)
			if len(acks) == 0 {
				w.Flush()
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Go(func() {
			for seq := 0; ; seq++ {
				if err := q.Put(crashRecord(round, w, seq)); err != nil {
					fmt.Fprintln(os.Stderr, "Put:", err)
					os.Exit(2)
				}
				acks <- fmt.Sprintf("%d %d\n", w, seq)
			}
		})
	}
	wg.Wait()
}

type writerKey struct{ round, writer int }

func TestSIGKILLLosesNoAcknowledgedRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a process 20 times")
	}
	t.Parallel()
	dir := t.TempDir()
	acked := map[writerKey]int{} // highest acknowledged sequence number
	for round := range crashRounds {
		killAfter := 1 + rand.IntN(3000)
		for w, seq := range runAndKill(t, dir, round, killAfter) {
			acked[writerKey{round, w}] = max(acked[writerKey{round, w}], seq+1)
		}
	}

	q, err := Open(dir, "crash", crashOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	seen := map[writerKey]int{} // records read, per writer; also the next expected seq
	for _, b := range readAll(t, q) {
		k := writerKey{int(binary.BigEndian.Uint32(b[0:])), int(binary.BigEndian.Uint32(b[4:]))}
		seq := int(binary.BigEndian.Uint32(b[8:]))
		if seq != seen[k] {
			t.Fatalf("round %d writer %d: read seq %d, want %d (duplicate, gap or reorder)", k.round, k.writer, seq, seen[k])
		}
		seen[k]++
	}
	total, lost := 0, 0
	for k, n := range acked {
		total += n
		lost += max(0, n-seen[k])
	}
	t.Logf("%d rounds, %d acknowledged records, %d read back, %d lost, %d damaged runs",
		crashRounds, total, sum(seen), lost, q.Stats().DamagedRecords)
	if lost != 0 {
		t.Fatalf("%d acknowledged records lost", lost)
	}
}

// runAndKill starts the child on dir, SIGKILLs it once it has acknowledged
// killAfter records, and returns each writer's acknowledged sequence numbers' max.
func runAndKill(t *testing.T, dir string, round, killAfter int) map[int]int {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d", crashChildEnv, dir, round))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	highest := map[int]int{}
	lines := bufio.NewScanner(out)
	for n := 0; lines.Scan(); n++ {
		var w, seq int
		if _, err := fmt.Sscan(lines.Text(), &w, &seq); err != nil {
			t.Fatalf("child printed %q", lines.Text())
		}
		highest[w] = max(highest[w], seq)
		if n == killAfter {
			cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	io.Copy(io.Discard, out)
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("round %d: child ended by itself (%v) before it was killed", round, err)
	}
	return highest
}

func sum(m map[writerKey]int) (n int) {
	for _, v := range m {
		n += v
	}
	return n
}
