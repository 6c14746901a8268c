package e2e

import (
	"fmt"
	"os"
	"testing"
)

// TestMain provides the directory steer is built into (once, by the first
// test that needs it; see Steer) and removes it at the end.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "steer-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	binDir = dir
	if msg := skipReason(); msg != "" {
		fmt.Fprintln(os.Stderr, "e2e:", msg)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
