package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// DPDKProcess is a process holding a file of an EAL runtime directory open:
// a running DPDK program.
type DPDKProcess struct {
	Pid    int
	Comm   string // its command name (/proc/PID/comm)
	Prefix string // its EAL file prefix
}

func (p DPDKProcess) String() string { return fmt.Sprintf("%d(%s %s)", p.Pid, p.Comm, p.Prefix) }

// /var/run is a link to /run: a process may hold either name.
var runtimeFile = regexp.MustCompile(`^(?:/var)?/run/dpdk/([^/]+)/`)

// DPDKProcesses lists the processes other than this one, and other than
// those in exclude, that hold a file under /var/run/dpdk open, by pid.
func DPDKProcesses(exclude ...int) []DPDKProcess {
	skip := map[int]bool{os.Getpid(): true}
	for _, pid := range exclude {
		skip[pid] = true
	}
	fdDirs, _ := filepath.Glob("/proc/[0-9]*/fd")
	var out []DPDKProcess
	for _, d := range fdDirs {
		pid, err := strconv.Atoi(strings.Split(d, "/")[2])
		if err != nil || skip[pid] {
			continue
		}
		fds, err := os.ReadDir(d)
		if err != nil {
			continue // gone, or not ours to read
		}
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join(d, fd.Name()))
			if err != nil {
				continue
			}
			if m := runtimeFile.FindStringSubmatch(target); m != nil {
				comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
				c := strings.TrimSpace(string(comm))
				if c == "" {
					c = "?"
				}
				out = append(out, DPDKProcess{Pid: pid, Comm: c, Prefix: m[1]})
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pid < out[j].Pid })
	return out
}

// RemoveRuntimeDir removes the runtime directory of a file prefix (EAL
// leaves it behind when its process ends).
func RemoveRuntimeDir(prefix string) error {
	if prefix == "" || strings.ContainsRune(prefix, '/') {
		return fmt.Errorf("testbed: bad file prefix %q", prefix)
	}
	return os.RemoveAll(RuntimeDir(prefix))
}
