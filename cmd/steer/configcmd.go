package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

func reloadCmd() *cobra.Command {
	c := &apiClient{}
	cmd := &cobra.Command{
		Use:   "reload",
		Short: "make a running steer re-read its config file (as SIGHUP does); exit 1 when it refused or failed",
		Long: `reload asks a running steer, through its API, to read its config file again and apply what
changed in routes and neighbours, all or nothing. A change to anything else (ports, lcores,
EAL, ...) needs a restart and the reload is refused, changing nothing. The router's answer
is printed; exit 0 only when the reload took effect. systemd's ExecReload runs this.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct{ Message string }
			if err := c.do("POST", "/api/v1/reload", nil, &out); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), out.Message)
			return nil
		},
	}
	apiFlags(cmd, c)
	return cmd
}

func configCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "show a running steer's config",
	}
	c := &apiClient{}
	apiFlags(cmd, c)
	dump := &cobra.Command{
		Use:   "dump",
		Short: "print the running config, API changes included, as YAML that `steer run` accepts",
		Long: `dump prints the config a running steer is using: the file as it was last loaded (with
STEER_* overrides applied), with the static routes and neighbours the router holds now, so
routes added or deleted through the API since are kept. A routes_file's routes are written
inline; metrics.token is left out. Save it to keep API changes across a restart:

    steer config dump > /etc/steer/steer.yaml.new && steer validate --config /etc/steer/steer.yaml.new

-o json writes the same document as JSON (which steer run reads too).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := jsonOutput(c.output)
			if err != nil {
				return err
			}
			var y []byte
			if err := c.do("GET", "/api/v1/config", nil, &y); err != nil {
				return err
			}
			if !asJSON {
				_, err := cmd.OutOrStdout().Write(y)
				return err
			}
			var doc map[string]any
			if err := yaml.Unmarshal(y, &doc); err != nil {
				return fmt.Errorf("the running config is not YAML: %w", err)
			}
			return printJSON(cmd.OutOrStdout(), doc)
		},
	}
	outputFlag(dump, &c.output)
	cmd.AddCommand(dump)
	return cmd
}
