// Package ealtest initialises EAL once for a package's tests: no hugepages,
// no PCI, a file prefix of its own, and the virtual devices the tests ask for.
// Tests that need it must run as root (DPDK); without root they are skipped
// with a message, never silently passed.
package ealtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steer-router/steer/cgo/dpdk/eal"
)

// MemoryMB is the EAL memory (-m, without hugepages) of the tests that
// follow; a TestMain may raise it before calling Main or Run.
var MemoryMB = 256

// Main is a TestMain body: EAL with lcores "0-1" plus vdevs, the tests,
// EAL cleanup, exit.
func Main(m *testing.M, vdevs ...string) { os.Exit(Run(m, "0-1", vdevs...)) }

// Run starts EAL with the given lcores ("0-1", or the --lcores form
// "0@0,1@1,2@1" for more lcores than CPUs) and vdevs, runs the tests,
// cleans EAL up and returns the exit code, so TestMain can clean up too.
func Run(m *testing.M, lcores string, vdevs ...string) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "SKIP: DPDK tests need root (run `make test` as root)")
		return 0
	}
	name := filepath.Base(os.Args[0])
	lflag := "-l"
	if strings.Contains(lcores, "@") {
		lflag = "--lcores"
	}
	args := []string{name, lflag, lcores, "--no-huge", "-m", fmt.Sprint(MemoryMB), "--no-pci",
		"--file-prefix", fmt.Sprintf("steer-test-%s-%d", name, os.Getpid()), "--log-level", "*:error"}
	for _, v := range vdevs {
		args = append(args, "--vdev", v)
	}
	if err := eal.Init(args); err != nil {
		fmt.Fprintln(os.Stderr, "eal init:", err)
		return 1
	}
	code := m.Run()
	dir := eal.RuntimeDir()
	if err := eal.Cleanup(); err != nil {
		fmt.Fprintln(os.Stderr, "eal cleanup:", err)
		code = 1
	}
	os.RemoveAll(dir) //nolint:errcheck // EAL leaves it; a test run must not
	return code
}
