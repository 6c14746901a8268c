package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/steer-router/steer/test/testbed"
)

// dpdkRun is one DPDK process from exec to exit, with everything it leaves
// behind removed: its directory under runs/ holds argv.txt, output.log and,
// for steer, steer.yaml and steer-stats.json.
type dpdkRun struct {
	b         *bench
	row       row
	dir       string
	statsFile string
	apiListen string // steer's HTTP API, off unless a measurement needs it
	proc      *testbed.Process
	fifo      *os.File // testpmd's stdin
	log       *os.File
}

func (b *bench) newRun(r row, dir string) *dpdkRun {
	return &dpdkRun{b: b, row: r, dir: dir, statsFile: filepath.Join(dir, "steer-stats.json")}
}

// start writes the run's files and starts the program in its own session
// (a Ctrl-C at the terminal reaches the bench, which stops it in order).
func (r *dpdkRun) start(t traffic) error {
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return err
	}
	r.b.removeLeftovers()
	lan, wan := devices(t.File, r.b.empty)
	var argv []string
	if r.row.Prog == "steer" {
		cfg := filepath.Join(r.dir, "steer.yaml")
		if err := r.b.writeSteerConfig(cfg, r.row, t, lan, wan, r.apiListen); err != nil {
			return err
		}
		argv = []string{r.row.steer.Path, "run", "--config", cfg, "--stats-file", r.statsFile}
	} else {
		argv = r.b.argv(r.row, t, lan, wan)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "argv.txt"), []byte(strings.Join(argv, " ")+"\n"), 0o644); err != nil {
		return err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = r.dir
	cmd.Env = programEnv()
	if r.row.Prog == "testpmd" {
		// testpmd quits at EOF on stdin: a FIFO held open read-write never
		// gives EOF, and "quit" written to it stops testpmd cleanly.
		fifo := filepath.Join(r.dir, "stdin.fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			return err
		}
		f, err := os.OpenFile(fifo, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		r.fifo, cmd.Stdin = f, f
	}
	log, err := os.Create(filepath.Join(r.dir, "output.log"))
	if err != nil {
		return err
	}
	r.log, cmd.Stdout, cmd.Stderr = log, log, log
	r.proc, err = testbed.Start(cmd, testbed.StartOptions{Session: true})
	return err
}

// programEnv: steer reads STEER_* overrides from the environment; the
// bench's configs must run as written, so none of the caller's get through
// (only the API token it sets).
func programEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STEER_") {
			env = append(env, kv)
		}
	}
	return append(env, "STEER_API_TOKEN="+apiToken)
}

func (r *dpdkRun) alive() bool { return r.proc != nil && !r.proc.Exited() }

// exitCode is the program's exit status once it has exited: its code, or
// minus the signal that ended it.
func (r *dpdkRun) exitCode() int { return r.proc.ExitCode() }

// stop asks the program to exit (testpmd: "stop" and "quit" on its stdin;
// the others SIGINT), waits, SIGKILLs its group if it does not exit, and
// removes what it left. It returns the exit status (nil: never started).
func (r *dpdkRun) stop() *int {
	var code *int
	if r.proc != nil {
		var request func() error
		if r.fifo != nil {
			request = func() error {
				_, err := r.fifo.Write([]byte("stop\nquit\n"))
				return err
			}
		}
		if err := r.proc.Stop(request, stopLimit); err == testbed.ErrKilled {
			logf("%s did not exit %.0f s after the stop request: SIGKILL", r.row.ID, stopLimit.Seconds())
		}
		c := r.proc.ExitCode()
		code = &c
	}
	if r.fifo != nil {
		r.fifo.Close()
		r.fifo = nil
		os.Remove(filepath.Join(r.dir, "stdin.fifo"))
	}
	if r.log != nil {
		r.log.Close()
		r.log = nil
	}
	r.b.removeLeftovers()
	return code
}

var failureWords = regexp.MustCompile(`(?i)error|cause|fail|cannot|invalid|not available`)

// errorLine is the line of the program's output that says why it failed:
// steer's last error or fatal JSON line, else the last line that sounds like
// a failure, else the last line.
func (r *dpdkRun) errorLine() string {
	text, _ := os.ReadFile(filepath.Join(r.dir, "output.log"))
	best, last := "", ""
	for _, line := range strings.Split(string(text), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		last = line
		var j map[string]any
		if json.Unmarshal([]byte(line), &j) == nil && j != nil {
			if lvl, _ := j["level"].(string); lvl == "error" || lvl == "fatal" {
				msg, _ := j["msg"].(string)
				e, _ := j["error"].(string)
				switch {
				case e != "" && msg != "":
					best = fmt.Sprintf("%s: %s", msg, e)
				case e != "":
					best = e
				default:
					best = msg
				}
			}
			continue
		}
		if failureWords.MatchString(line) {
			best = line
		}
	}
	if best != "" {
		return best
	}
	if last != "" {
		return last
	}
	return "(no output)"
}

// removeLeftovers removes the runtime directory and hugepage files of the
// bench's file prefix (a killed DPDK process leaves its <prefix>map_*
// files); scripts/hugepages.sh --clean leaves any a process still holds.
func (b *bench) removeLeftovers() {
	if m, _ := filepath.Glob(filepath.Join(hugeDir, prefix+"map_*")); len(m) > 0 {
		_ = exec.Command("bash", b.s.HugepagesSh, "--clean", prefix).Run()
	}
	_ = testbed.RemoveRuntimeDir(prefix)
}
