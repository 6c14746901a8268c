// Package ealtest initialises EAL once for a package's tests: no hugepages,
// no PCI, a file prefix of its own, and the virtual devices the tests ask for.
// Tests that need it must run as root (DPDK); without root they are skipped
// with a message, never silently passed.
package ealtest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/steer-router/steer/cgo/eal"
)

// Main is a TestMain body: it starts EAL with lcores "0-1" plus vdevs, runs
// the tests and cleans EAL up.
func Main(m *testing.M, vdevs ...string) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "SKIP: DPDK tests need root (run `make test` as root)")
		os.Exit(0)
	}
	name := filepath.Base(os.Args[0])
	args := []string{name, "-l", "0-1", "--no-huge", "-m", "128", "--no-pci",
		"--file-prefix", fmt.Sprintf("steer-test-%s-%d", name, os.Getpid()), "--log-level", "*:error"}
	for _, v := range vdevs {
		args = append(args, "--vdev", v)
	}
	if err := eal.Init(args); err != nil {
		fmt.Fprintln(os.Stderr, "eal init:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := eal.Cleanup(); err != nil {
		fmt.Fprintln(os.Stderr, "eal cleanup:", err)
		code = 1
	}
	os.Exit(code)
}
