package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/steer-router/steer/pkg/config"
	"github.com/steer-router/steer/pkg/rib"
)

func routesCmd() *cobra.Command {
	c := &apiClient{}
	cmd := &cobra.Command{
		Use:   "routes",
		Short: "list, add and delete static routes of a running steer",
	}
	apiFlags(cmd, c)
	var all bool
	list := &cobra.Command{
		Use:   "list",
		Short: "list the static routes (--all: every FIB entry, the router's own included)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := jsonOutput(c.output)
			if err != nil {
				return err
			}
			var out struct {
				Routes []rib.Route `json:"routes"`
			}
			path := "/api/v1/routes"
			if all {
				path += "?all=1"
			}
			if err := c.do("GET", path, nil, &out); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "PREFIX\tSOURCE\tVIA\tNEXT HOP")
			for _, r := range out.Routes {
				via := "-"
				if r.Via.IsValid() {
					via = r.Via.String()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Prefix, r.Source, via, r.NextHop)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&all, "all", false, "every FIB entry: connected subnets, the router's addresses, resolved neighbours")
	outputFlag(list, &c.output)
	var file string
	add := &cobra.Command{
		Use:   "add PREFIX via GATEWAY | add --file FILE",
		Short: "add or replace a static route, e.g. `steer routes add 198.51.100.0/24 via 203.0.113.2`, or every route of a file",
		Args: func(_ *cobra.Command, args []string) error {
			if file != "" {
				if len(args) != 0 {
					return errors.New("usage: steer routes add --file FILE (the routes are in the file)")
				}
				return nil
			}
			if len(args) != 3 || args[1] != "via" {
				return errors.New("usage: steer routes add PREFIX via GATEWAY, or steer routes add --file FILE")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if file != "" {
				return addFile(cmd, c, file)
			}
			in := map[string]string{"prefix": args[0], "via": args[2]}
			if err := c.do("POST", "/api/v1/routes", in, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added %s via %s\n", args[0], args[2])
			return nil
		},
	}
	add.Flags().StringVar(&file, "file", "", "add every route of FILE, one `PREFIX via GATEWAY` per line (the routes_file format), in one request: all or none")
	cmd.AddCommand(list, add, &cobra.Command{
		Use:     "del PREFIX",
		Aliases: []string{"delete", "rm"},
		Short:   "delete a static route",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !strings.Contains(args[0], "/") {
				return fmt.Errorf("prefix: %q needs a length, like 198.51.100.0/24", args[0])
			}
			if err := c.do("DELETE", "/api/v1/routes/"+args[0], nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", args[0])
			return nil
		},
	})
	return cmd
}

// bulkTimeout bounds a request with a whole routes file: a million routes
// take a few seconds to send, parse and load.
const bulkTimeout = 2 * time.Minute

// addFile sends the routes of a routes file in one request (a JSON list,
// all or none). Problems in the file are listed by line before anything is
// sent; a route the router refuses is named by its line too.
func addFile(cmd *cobra.Command, c *apiClient, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	routes, ps := config.ParseRoutes(path, data)
	if ps != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d problem(s), nothing sent:\n", path, len(ps))
		for _, p := range ps {
			fmt.Fprintf(cmd.ErrOrStderr(), "  %s\n", p.Error())
		}
		return exitError{1}
	}
	type route struct {
		Prefix string `json:"prefix"`
		Via    string `json:"via"`
	}
	body := make([]route, len(routes))
	for i, r := range routes {
		body[i] = route{r.Net.String(), r.Gateway.String()}
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: bulkTimeout}
	}
	var out struct{ Added int }
	if err := c.do("POST", "/api/v1/routes", body, &out); err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			if i, rest, ok := entry(ae.Field); ok && i < len(routes) {
				return fmt.Errorf("%s:%d: %s: %s; nothing was added", path, routes[i].Line, rest, ae.Msg)
			}
		}
		return fmt.Errorf("%w; nothing was added", err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "added %d route(s) from %s\n", out.Added, path)
	return nil
}

// entry splits "routes[3].via" into 3 and "via".
func entry(f string) (int, string, bool) {
	rest, ok := strings.CutPrefix(f, "routes[")
	idx, rest, ok2 := strings.Cut(rest, "]")
	i, err := strconv.Atoi(idx)
	if !ok || !ok2 || err != nil || i < 0 {
		return 0, "", false
	}
	return i, strings.TrimPrefix(rest, "."), true
}
