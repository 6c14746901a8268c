// Command steer is a kernel-bypass IPv4 router: a Go control plane driving
// a DPDK data plane.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

// defaultConfig is what run and validate read without --config (the
// package's conffile), and where API commands look for the API's address.
const defaultConfig = "/etc/steer/steer.yaml"

// exitError carries an exit code out of a cobra command.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// usageError is a command line steer cannot act on: exit 2, with a pointer
// to the command's help, so scripts never mistake it for success.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func main() {
	cmd, err := newRootCmd().ExecuteC()
	if err == nil {
		return
	}
	var ee exitError
	if errors.As(err, &ee) {
		os.Exit(ee.code)
	}
	fmt.Fprintln(os.Stderr, "steer:", err)
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(os.Stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		os.Exit(2)
	}
	os.Exit(1)
}

// newRootCmd builds the whole command tree (also what gen-docs documents).
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "steer",
		Short:         "steer is a kernel-bypass IPv4 router (Go control plane, DPDK data plane)",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate(fmt.Sprintf("steer {{.Version}} (%s)\n", dpdkVersion()))
	root.AddCommand(runCmd(), validateCmd(), versionCmd(), routesCmd(), neighborsCmd(), statsCmd(),
		reloadCmd(), configCmd(), genDocsCmd())
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	strictArgs(root)
	return root
}

// strictArgs makes every wrong command line a usage error: argument
// counts, and a group (steer routes) run bare or with an unknown
// subcommand, which cobra would answer with its help and exit 0.
func strictArgs(cmd *cobra.Command) {
	cmd.SuggestionsMinimumDistance = 2
	if cmd.HasSubCommands() && cmd.Run == nil && cmd.RunE == nil {
		cmd.Args = cobra.ArbitraryArgs
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("%s needs a subcommand: %s", cmd.CommandPath(), subcommands(cmd))}
			}
			msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(" (did you mean %q?)", s[0])
			}
			return usageError{fmt.Errorf("%s; its subcommands: %s", msg, subcommands(cmd))}
		}
	} else if validate := cmd.Args; validate != nil {
		cmd.Args = func(cmd *cobra.Command, args []string) error {
			if err := validate(cmd, args); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		strictArgs(sub)
	}
}

// subcommands lists a group's visible subcommands.
func subcommands(cmd *cobra.Command) string {
	var s string
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() {
			if s != "" {
				s += ", "
			}
			s += sub.Name()
		}
	}
	return s
}

func versionCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "print steer's version and the DPDK it was built against",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := jsonOutput(output)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]string{"version": version, "dpdk": dpdkVersion()})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "steer %s (%s)\n", version, dpdkVersion())
			return nil
		},
	}
	outputFlag(cmd, &output)
	return cmd
}
