package reload

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/steer-router/steer/pkg/config"
	"github.com/steer-router/steer/pkg/report"
	"github.com/steer-router/steer/pkg/rib"
)

// Dump renders the running config as YAML that `steer run` accepts: the
// config in effect (running, from Running) with its static routes and
// neighbours replaced by what the router holds now, so changes made
// through the API since start-up or the last reload are kept. Routes of a
// routes_file are written inline (the file may have changed since) and
// metrics.token is left out: the dump is readable by anyone who can read
// the routes.
func Dump(running *config.Config, routes []rib.Route, neighbors []report.Neighbor, from string, at time.Time) ([]byte, error) {
	c := *running
	c.RoutesFile, c.FileRoutes = "", nil
	c.Routes = make([]config.Route, 0, len(routes))
	for _, r := range routes {
		if r.Source != rib.Static {
			continue
		}
		c.Routes = append(c.Routes, config.Route{Prefix: r.Prefix.String(), Via: r.Via.String()})
	}
	c.Neighbors = make([]config.Neighbor, 0, len(neighbors))
	for _, n := range neighbors {
		if n.Static {
			c.Neighbors = append(c.Neighbors, config.Neighbor{IP: n.IP.String(), MAC: n.MAC, Port: n.Port})
		}
	}
	slices.SortFunc(c.Neighbors, func(a, b config.Neighbor) int {
		return netip.MustParseAddr(a.IP).Compare(netip.MustParseAddr(b.IP))
	})
	tokenSet := c.Metrics.Token != ""
	c.Metrics.Token = ""

	root, err := config.MarshalNode(&c)
	if err != nil {
		return nil, err
	}
	root.HeadComment = fmt.Sprintf("steer's running config, dumped %s (started from %s):\n"+
		"routes and neighbours as the router holds them, API changes included;\n"+
		"a routes_file's routes are written inline.", at.UTC().Format(time.RFC3339), from)
	if tokenSet {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "metrics" {
				root.Content[i].HeadComment = "metrics.token is not shown: set it again, or STEER_API_TOKEN."
			}
		}
	}
	return config.EncodeYAML(root)
}
