// Command steer is a kernel-bypass IPv4 router: a Go control plane driving
// a DPDK data plane.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

// exitError carries an exit code out of a cobra command.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	if err := newRootCmd().Execute(); err != nil {
		if e, ok := err.(exitError); ok {
			os.Exit(e.code)
		}
		fmt.Fprintln(os.Stderr, "steer:", err)
		os.Exit(1)
	}
}

// newRootCmd builds the whole command tree (also what gen-docs documents).
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "steer",
		Short:         "steer is a kernel-bypass IPv4 router (Go control plane, DPDK data plane)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(runCmd(), validateCmd(), versionCmd(), routesCmd(), neighborsCmd(), statsCmd(), genDocsCmd())
	return root
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print steer's version and the DPDK it was built against",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "steer %s (%s)\n", version, dpdkVersion())
		},
	}
}
