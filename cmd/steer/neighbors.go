package main

import (
	"fmt"
	"net/url"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/steer-router/steer/pkg/report"
)

func neighborsCmd() *cobra.Command {
	c := &apiClient{}
	cmd := &cobra.Command{
		Use:     "neighbors",
		Aliases: []string{"neighbours", "neigh"},
		Short:   "list the neighbour table and add or delete static neighbours of a running steer",
	}
	apiFlags(cmd, c)
	var port string
	add := &cobra.Command{
		Use:   "add IP MAC --port PORT",
		Short: "add or replace a static neighbour, e.g. `steer neighbors add 203.0.113.2 02:00:00:00:00:03 --port wan`",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if port == "" {
				return fmt.Errorf("port: required: --port NAME, the port the neighbour is reached through")
			}
			in := map[string]string{"ip": args[0], "mac": args[1], "port": port}
			var out report.Neighbor
			if err := c.do("POST", "/api/v1/neighbors", in, &out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added %s at %s on %s\n", out.IP, out.MAC, out.Port)
			return nil
		},
	}
	add.Flags().StringVar(&port, "port", "", "name of the port the neighbour is reached through")
	_ = add.RegisterFlagCompletionFunc("port", c.completePorts)
	list := &cobra.Command{
		Use:   "list",
		Short: "list the neighbour table (static and learnt entries)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := jsonOutput(c.output)
			if err != nil {
				return err
			}
			var out struct {
				Neighbors []report.Neighbor `json:"neighbors"`
			}
			if err := c.do("GET", "/api/v1/neighbors", nil, &out); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "IP\tMAC\tPORT\tSTATE\tSTATIC")
			for _, n := range out.Neighbors {
				mac := n.MAC
				if mac == "" {
					mac = "-"
				}
				static := "no"
				if n.Static {
					static = "yes"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n.IP, mac, n.Port, n.State, static)
			}
			return tw.Flush()
		},
	}
	outputFlag(list, &c.output)
	cmd.AddCommand(list, add, &cobra.Command{
		Use:     "del IP",
		Aliases: []string{"delete", "rm"},
		Short:   "delete a static neighbour",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.do("DELETE", "/api/v1/neighbors/"+url.PathEscape(args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", args[0])
			return nil
		},
	})
	return cmd
}
