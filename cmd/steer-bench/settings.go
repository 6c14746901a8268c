package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// What every run shares.
const (
	prefix      = "steer-bench" // one EAL file prefix for every program: they never overlap
	memoryMB    = 512
	apiToken    = "steer-bench"
	hugeDir     = "/dev/hugepages"
	lockPath    = "/run/lock/steer-bench.lock"
	startLimit  = 30 * time.Second // exec -> first packet at the sink
	stopLimit   = 20 * time.Second // stop request -> exit, then SIGKILL
	schemaLevel = 1                // results.json "schema"
)

// settings is the environment the bench runs with (docs/BENCH.md).
type settings struct {
	Root, Out     string // the repository; build/bench
	HugepagesSh   string
	L3fwd         string  // BENCH_L3FWD, from bench.sh
	Seconds       float64 // BENCH_SECONDS: measured window
	Warmup        float64 // BENCH_WARMUP
	Repeat        int     // BENCH_REPEAT
	WaitOthers    float64 // BENCH_WAIT_OTHERS
	MaxOtherLoad  float64 // BENCH_MAX_OTHER_LOAD
	Retries       int     // BENCH_RETRIES
	Huge          bool    // BENCH_HUGE_OK, from bench.sh
	Go, Churn     bool    // BENCH_GO, BENCH_CHURN
	Flood         bool    // BENCH_FLOOD
	Fairness      bool    // BENCH_FAIRNESS
	Traffic, Rows []string
	Steers        []steerBin // BENCH_STEER_BIN: one, or several for A/B
}

// steerBin is one steer binary the steer rows run. With several
// (BENCH_STEER_BIN=a,b) each has an id, A, B, ..., that suffixes its rows.
type steerBin struct {
	ID      string `json:"id,omitempty"`
	Path    string `json:"path"`
	Version string `json:"version"`
}

// fail stops the bench before it has started anything.
func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
	os.Exit(1)
}

func readSettings() *settings {
	s := &settings{
		Seconds:      envFloat("BENCH_SECONDS", 5, 0.5),
		Warmup:       envFloat("BENCH_WARMUP", 2, 0),
		Repeat:       envInt("BENCH_REPEAT", 3, 1),
		WaitOthers:   envFloat("BENCH_WAIT_OTHERS", 10, 0),
		MaxOtherLoad: envFloat("BENCH_MAX_OTHER_LOAD", 0.3, 0),
		Retries:      envInt("BENCH_RETRIES", 2, 0),
		Huge:         envOr("BENCH_HUGE_OK", "1") == "1",
		L3fwd:        os.Getenv("BENCH_L3FWD"),
		Go:           os.Getenv("BENCH_GO") != "0",
		Churn:        os.Getenv("BENCH_CHURN") != "0",
		Flood:        os.Getenv("BENCH_FLOOD") != "0",
		Fairness:     os.Getenv("BENCH_FAIRNESS") != "0",
		Traffic:      envList("BENCH_TRAFFIC"),
		Rows:         envList("BENCH_ROWS"),
	}
	s.Root = os.Getenv("BENCH_ROOT")
	if s.Root == "" {
		s.Root = repoRoot()
	}
	s.Out = filepath.Join(s.Root, "build", "bench")
	s.HugepagesSh = filepath.Join(s.Root, "scripts", "hugepages.sh")
	bins := envList("BENCH_STEER_BIN")
	if len(bins) == 0 {
		bins = []string{filepath.Join(s.Root, "build", "steer")}
	}
	for i, p := range bins {
		abs, err := filepath.Abs(p)
		if err != nil {
			fail("BENCH_STEER_BIN: %v", err)
		}
		if st, err := os.Stat(abs); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			fail("steer binary %s: not an executable file (BENCH_STEER_BIN, or run 'make build')", abs)
		}
		b := steerBin{Path: abs}
		if len(bins) > 1 {
			b.ID = string(rune('A' + i))
		}
		s.Steers = append(s.Steers, b)
	}
	if len(s.Steers) > 26 {
		fail("BENCH_STEER_BIN: at most 26 binaries")
	}
	return s
}

// repoRoot: the directory above build/ when the bench runs as
// build/steer-bench, else the working directory.
func repoRoot() string {
	if exe, err := os.Executable(); err == nil {
		root := filepath.Dir(filepath.Dir(exe))
		if _, err := os.Stat(filepath.Join(root, "scripts", "bench")); err == nil {
			return root
		}
	}
	wd, _ := os.Getwd()
	return wd
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envList(name string) []string {
	var out []string
	for _, x := range strings.Split(os.Getenv(name), ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func envFloat(name string, def, lo float64) float64 {
	raw := os.Getenv(name)
	if raw == "" {
		return def
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil {
		fail("%s=%q is not a number", name, raw)
	}
	if v < lo {
		fail("%s=%s must be >= %v", name, raw, lo)
	}
	return v
}

func envInt(name string, def, lo int) int {
	raw := os.Getenv(name)
	if raw == "" {
		return def
	}
	v, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil {
		fail("%s=%q is not a number", name, raw)
	}
	if v < lo {
		fail("%s=%s must be >= %d", name, raw, lo)
	}
	return v
}

// seconds turns a setting in seconds into a duration.
func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
