package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/steer-router/steer/test/testbed"
)

// goBenchmarks are the control-plane figures: one `go test` each, in this
// order. A package that is gone (moved, deleted) is an error in the table,
// not the end of the bench.
var goBenchmarks = []struct {
	pkg  string
	args []string // before -count 1 and the package
	note string   // the footnote of the table when it gave figures
}{
	{"./cgo/dpdk/fib/", []string{"-run", "^$", "-bench", "Load1M", "-benchtime", "1x"},
		"Load1M is rte_fib (DIR24_8 + RIB) create + sorted bulk add of 1M random /16-/28 prefixes (66% /24, 3.5% longer)"},
	{"./pkg/router/", []string{"-run", "^$", "-bench", "AddRoutes1M", "-benchtime", "1x", "-v"},
		"RouterAddRoutes is steer's own load of such 1M static routes (4 gateways) through the route table (pkg/rib) into a forwarding router"},
}

// goInfo is results.json control_plane.info.
type goInfo struct {
	Command  string   `json:"command,omitempty"`
	ExitCode *int     `json:"exit_code,omitempty"` // the largest
	WallS    *float64 `json:"wall_s,omitempty"`
	Error    []string `json:"error,omitempty"` // the last line of each failed command
}

// goResult is one figure (results.json control_plane.results).
type goResult struct {
	Bench      string  `json:"bench"`
	Routes     int     `json:"routes"`
	Seconds    float64 `json:"seconds"`
	RoutesPerS float64 `json:"routes_per_s"`
}

var (
	// BenchmarkLoad1M/routes=1000000-2  1  389552631 ns/op  2567073 routes/s
	benchLine = regexp.MustCompile(`(?m)^Benchmark(\w+)/routes=(\d+)-\d+\s+\d+\s+(\d+) ns/op\s+([\d.]+) routes/s`)
	// BenchmarkAddRoutes1M logs "... into a forwarding router: load 1.8s (0.55 M routes/s)"
	addRoutesLine = regexp.MustCompile(`Router\.AddRoutes into a forwarding router: load ([\d.]+)(m?s) \(([\d.]+) M routes/s\)`)
)

// goBench runs goBenchmarks, writes their output to go-bench.txt and
// returns what they measured; notes are the footnotes of the benchmarks
// that gave figures.
func (b *bench) goBench() (goInfo, []goResult, []string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	if _, err := os.Stat(goBin); err != nil {
		return goInfo{Error: []string{"go not found"}}, nil, nil, nil
	}
	t0 := time.Now()
	var out bytes.Buffer
	var cmds []string
	var results []goResult
	var notes []string
	info := goInfo{}
	maxCode := 0
	for _, gb := range goBenchmarks {
		argv := append(append([]string{goBin, "test"}, gb.args...), "-count", "1", gb.pkg)
		cmds = append(cmds, strings.Join(argv, " "))
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = b.s.Root
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		code, err := b.runInterruptible(cmd)
		out.WriteString(strings.Join(argv, " ") + "\n" + stdout.String() + stderr.String())
		if err != nil {
			return info, results, notes, err
		}
		maxCode = max(maxCode, code)
		if code != 0 {
			lines := strings.Split(strings.TrimSpace(stdout.String()+stderr.String()), "\n")
			info.Error = append(info.Error, lines[len(lines)-1])
		}
		n := len(results)
		for _, m := range benchLine.FindAllStringSubmatch(stdout.String(), -1) {
			routes, _ := strconv.Atoi(m[2])
			ns, _ := strconv.ParseFloat(m[3], 64)
			rps, _ := strconv.ParseFloat(m[4], 64)
			results = append(results, goResult{Bench: m[1], Routes: routes, Seconds: ns / 1e9, RoutesPerS: rps})
		}
		if m := addRoutesLine.FindStringSubmatch(stdout.String()); m != nil {
			secs, _ := strconv.ParseFloat(m[1], 64)
			if m[2] == "ms" {
				secs /= 1000
			}
			mrps, _ := strconv.ParseFloat(m[3], 64)
			results = append(results, goResult{Bench: "RouterAddRoutes", Routes: 1000000, Seconds: secs, RoutesPerS: mrps * 1e6})
		}
		if len(results) > n {
			notes = append(notes, gb.note)
		}
	}
	if err := os.WriteFile(filepath.Join(b.s.Out, "go-bench.txt"), out.Bytes(), 0o644); err != nil {
		return info, results, notes, err
	}
	b.removeGoTestLeftovers()
	wall := time.Since(t0).Seconds()
	info.Command, info.ExitCode, info.WallS = strings.Join(cmds, " ; "), &maxCode, &wall
	return info, results, notes, nil
}

// runInterruptible runs cmd in a process group of its own and kills the
// group at a signal to the bench (go test runs the test binary as its
// child). It returns the exit code; the error is errInterrupted or a
// failure to start.
func (b *bench) runInterruptible(cmd *exec.Cmd) (int, error) {
	p, err := testbed.Start(cmd, testbed.StartOptions{Session: true})
	if err != nil {
		return -1, err
	}
	select {
	case <-p.Done():
		return p.ExitCode(), nil
	case <-b.ctx.Done():
		p.Kill()
		<-p.Done()
		b.removeGoTestLeftovers()
		return -1, errInterrupted
	}
}

// removeGoTestLeftovers removes the runtime directories EAL leaves behind
// for the benchmarks' test binaries (ealtest's prefix is
// steer-test-<binary>-<pid>) once their process is gone.
func (b *bench) removeGoTestLeftovers() {
	for _, gb := range goBenchmarks {
		bin := filepath.Base(strings.TrimSuffix(gb.pkg, "/")) + ".test"
		dirs, _ := filepath.Glob(filepath.Join(testbed.RuntimeRoot, "steer-test-"+bin+"-*"))
		for _, d := range dirs {
			pid := d[strings.LastIndexByte(d, '-')+1:]
			if _, err := strconv.Atoi(pid); err != nil {
				continue
			}
			if _, err := os.Stat("/proc/" + pid); os.IsNotExist(err) {
				os.RemoveAll(d)
			}
		}
	}
}
