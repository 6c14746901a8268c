package eal

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ConfineOtherThreads pins every thread of the process except EAL's worker
// lcores ("rte-worker-N") to the main lcore's CPUs, and returns how many it
// pinned. Go's runtime threads (GC, HTTP, timers) otherwise float onto the
// forwarding CPUs and preempt the polling loops for milliseconds; threads
// created later inherit the mask from the thread that creates them.
func ConfineOtherThreads() (int, error) {
	var set unix.CPUSet
	var err error
	Do(func() { err = unix.SchedGetaffinity(0, &set) }) // the main lcore's own mask
	if err != nil {
		return 0, fmt.Errorf("sched_getaffinity(main lcore): %w", err)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc/self/task", t.Name(), "comm"))
		if err != nil || strings.HasPrefix(string(comm), "rte-worker-") {
			continue // gone, or a forwarding lcore: EAL pinned it
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil {
			return n, fmt.Errorf("sched_setaffinity(thread %d): %w", tid, err)
		}
		n++
	}
	return n, nil
}
