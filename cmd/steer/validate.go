package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/steer-router/steer/pkg/config"
)

func validateCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "validate [--config FILE]",
		Short: "check a config: exit 0 (warnings on stderr), or 1 listing every problem by field",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd, &path)
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
	configFlag(cmd, &path)
	return cmd
}

// configFlag adds --config, the file run and validate read.
func configFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVarP(path, "config", "c", "", "config file (YAML; default "+defaultConfig+")")
	_ = cmd.MarkFlagFilename("config", "yaml", "yml")
}

// loadConfig loads and validates path (the default file when ""); on
// failure it prints every problem, one per line, and returns exit code 1.
func loadConfig(cmd *cobra.Command, path *string) (*config.Config, error) {
	if *path == "" {
		*path = defaultConfig
		if _, err := os.Stat(defaultConfig); errors.Is(err, os.ErrNotExist) {
			return nil, usageError{fmt.Errorf("no --config given, and %s does not exist: pass --config FILE (examples: /usr/share/doc/steer/examples, dpdk-config/ in the source)", defaultConfig)}
		}
	}
	cfg, err := config.Load(*path)
	if err == nil {
		return cfg, nil
	}
	out := cmd.ErrOrStderr()
	if ps, ok := err.(config.Problems); ok {
		fmt.Fprintf(out, "%s: %d problem(s):\n", *path, len(ps))
		for _, p := range ps {
			fmt.Fprintf(out, "  %s\n", p.Error())
		}
	} else {
		fmt.Fprintf(out, "%s: %v\n", *path, err)
	}
	return nil, exitError{1}
}
