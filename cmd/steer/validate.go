package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/steer-router/steer/pkg/config"
)

func validateCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "validate --config FILE",
		Short: "check a config: exit 0 (warnings on stderr), or 1 listing every problem by field",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, path)
			if err != nil {
				return err
			}
			for _, w := range cfg.Warnings() {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: warning: %s\n", path, w)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", path)
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "config file (YAML)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// loadConfig loads and validates; on failure it prints every problem, one
// per line, and returns exit code 1.
func loadConfig(cmd *cobra.Command, path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err == nil {
		return cfg, nil
	}
	out := cmd.ErrOrStderr()
	if ps, ok := err.(config.Problems); ok {
		fmt.Fprintf(out, "%s: %d problem(s):\n", path, len(ps))
		for _, p := range ps {
			fmt.Fprintf(out, "  %s\n", p.Error())
		}
	} else {
		fmt.Fprintf(out, "%s: %v\n", path, err)
	}
	return nil, exitError{1}
}
