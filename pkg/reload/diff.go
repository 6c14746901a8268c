// Package reload applies a changed config file to a running router (SIGHUP):
// static routes (routes and routes_file, which is read again) and
// neighbours change live; anything else needs a restart, and a reload that
// would need one is refused as a whole.
//
// The pure parts are Diff (what to change, in a safe order) and
// RestartFields (which other settings differ); Apply makes the changes
// through the router's run-time API and undoes them all if one fails.
package reload

import (
	"fmt"
	"net/netip"
	"reflect"
	"sort"
	"strings"

	"github.com/steer-router/steer/pkg/config"
	"github.com/steer-router/steer/pkg/inet"
)

// Neighbor is a static neighbour's link-layer side.
type Neighbor struct {
	MAC  inet.MAC
	Port string
}

// State is what a reload can change without a restart: the static routes
// of routes and routes_file (prefix -> gateway; validation keeps a prefix
// in one of them) and static neighbours (IP -> MAC and port).
type State struct {
	Routes    map[netip.Prefix]netip.Addr
	Neighbors map[netip.Addr]Neighbor
}

// FromConfig is the state a validated config asks for.
func FromConfig(c *config.Config) State {
	s := State{Routes: make(map[netip.Prefix]netip.Addr, len(c.Routes)+len(c.FileRoutes)), Neighbors: map[netip.Addr]Neighbor{}}
	for _, r := range c.Routes {
		s.Routes[r.Net] = r.Gateway
	}
	for _, r := range c.FileRoutes {
		s.Routes[r.Net] = r.Gateway
	}
	for _, n := range c.Neighbors {
		s.Neighbors[n.Addr] = Neighbor{MAC: n.HW, Port: n.Port}
	}
	return s
}

// Clone returns a copy that shares no map with s.
func (s State) Clone() State {
	c := State{Routes: make(map[netip.Prefix]netip.Addr, len(s.Routes)), Neighbors: make(map[netip.Addr]Neighbor, len(s.Neighbors))}
	for k, v := range s.Routes {
		c.Routes[k] = v
	}
	for k, v := range s.Neighbors {
		c.Neighbors[k] = v
	}
	return c
}

// Kind is what a Change does.
type Kind int

// The kinds of change, in the order Diff emits them.
const (
	NeighborAdded Kind = iota
	NeighborChanged
	RouteRemoved
	RouteAdded
	RouteChanged // the gateway changed
	NeighborRemoved
)

// Change is one difference between two states. Routes use Prefix, OldVia
// and NewVia; neighbours IP, Old and New. The zero side of an add or remove
// is unset.
type Change struct {
	Kind           Kind
	Prefix         netip.Prefix
	OldVia, NewVia netip.Addr
	IP             netip.Addr
	Old, New       Neighbor
}

func (n Neighbor) String() string { return fmt.Sprintf("%s on %s", n.MAC, n.Port) }

// String says what the change does, e.g. "route 192.0.2.0/24 via
// 203.0.113.2 added".
func (c Change) String() string {
	switch c.Kind {
	case RouteAdded:
		return fmt.Sprintf("route %s via %s added", c.Prefix, c.NewVia)
	case RouteRemoved:
		return fmt.Sprintf("route %s via %s removed", c.Prefix, c.OldVia)
	case RouteChanged:
		return fmt.Sprintf("route %s now via %s (was via %s)", c.Prefix, c.NewVia, c.OldVia)
	case NeighborAdded:
		return fmt.Sprintf("neighbour %s at %s added", c.IP, c.New)
	case NeighborRemoved:
		return fmt.Sprintf("neighbour %s at %s removed", c.IP, c.Old)
	case NeighborChanged:
		return fmt.Sprintf("neighbour %s now at %s (was %s)", c.IP, c.New, c.Old)
	}
	return fmt.Sprintf("change of kind %d", c.Kind)
}

// Inverse is the change that undoes c.
func (c Change) Inverse() Change {
	inv := c
	inv.OldVia, inv.NewVia = c.NewVia, c.OldVia
	inv.Old, inv.New = c.New, c.Old
	switch c.Kind {
	case RouteAdded:
		inv.Kind = RouteRemoved
	case RouteRemoved:
		inv.Kind = RouteAdded
	case NeighborAdded:
		inv.Kind = NeighborRemoved
	case NeighborRemoved:
		inv.Kind = NeighborAdded
	}
	return inv
}

// applyTo records c in s (which must not be shared).
func (c Change) applyTo(s State) {
	switch c.Kind {
	case RouteAdded, RouteChanged:
		s.Routes[c.Prefix] = c.NewVia
	case RouteRemoved:
		delete(s.Routes, c.Prefix)
	case NeighborAdded, NeighborChanged:
		s.Neighbors[c.IP] = c.New
	case NeighborRemoved:
		delete(s.Neighbors, c.IP)
	}
}

// Plan is the changes from one state to another, in the order to apply
// them: new and changed neighbours first (a route added later resolves its
// gateway through them), then removed routes, added and changed routes,
// and removed neighbours last (no route still points at them). Within a
// kind, sorted by address.
type Plan []Change

// Diff returns the changes that turn from into to.
func Diff(from, to State) Plan {
	var p Plan
	for ip, n := range to.Neighbors {
		if o, ok := from.Neighbors[ip]; !ok {
			p = append(p, Change{Kind: NeighborAdded, IP: ip, New: n})
		} else if o != n {
			p = append(p, Change{Kind: NeighborChanged, IP: ip, Old: o, New: n})
		}
	}
	for ip, o := range from.Neighbors {
		if _, ok := to.Neighbors[ip]; !ok {
			p = append(p, Change{Kind: NeighborRemoved, IP: ip, Old: o})
		}
	}
	for pfx, via := range to.Routes {
		if o, ok := from.Routes[pfx]; !ok {
			p = append(p, Change{Kind: RouteAdded, Prefix: pfx, NewVia: via})
		} else if o != via {
			p = append(p, Change{Kind: RouteChanged, Prefix: pfx, OldVia: o, NewVia: via})
		}
	}
	for pfx, o := range from.Routes {
		if _, ok := to.Routes[pfx]; !ok {
			p = append(p, Change{Kind: RouteRemoved, Prefix: pfx, OldVia: o})
		}
	}
	sort.Slice(p, func(i, j int) bool {
		a, b := p[i], p[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.IP != b.IP {
			return a.IP.Less(b.IP)
		}
		if a.Prefix.Addr() != b.Prefix.Addr() {
			return a.Prefix.Addr().Less(b.Prefix.Addr())
		}
		return a.Prefix.Bits() < b.Prefix.Bits()
	})
	return p
}

// Counts is how many changes of each kind a plan holds.
func (p Plan) Counts() map[Kind]int {
	m := map[Kind]int{}
	for _, c := range p {
		m[c.Kind]++
	}
	return m
}

// RestartFields compares everything but routes, routes_file (its path and
// its routes: both apply live) and neighbours (the settings only a restart
// applies: eal, ports, lcores, mempool, distributor, fib, metrics, log) and
// returns one entry per difference, naming
// the field path as the config spells it: "ports[1].device changed",
// "lcores[2] added", "eal.args[0] removed". Values are never included (a
// token may differ). Derived fields (mapstructure "-") are skipped: they
// follow from the ones compared.
func RestartFields(from, to *config.Config) []string {
	var out []string
	diffValue("", reflect.ValueOf(*from), reflect.ValueOf(*to), &out)
	return out
}

func diffValue(path string, a, b reflect.Value, out *[]string) {
	switch a.Kind() {
	case reflect.Struct:
		t := a.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			if path == "" && (name == "routes" || name == "routes_file" || name == "neighbors") {
				continue // applied live
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			diffValue(p, a.Field(i), b.Field(i), out)
		}
	case reflect.Slice, reflect.Array:
		n := min(a.Len(), b.Len())
		for i := 0; i < n; i++ {
			diffValue(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i), out)
		}
		for i := n; i < b.Len(); i++ {
			*out = append(*out, fmt.Sprintf("%s[%d] added", path, i))
		}
		for i := n; i < a.Len(); i++ {
			*out = append(*out, fmt.Sprintf("%s[%d] removed", path, i))
		}
	case reflect.Map:
		keys := map[string]reflect.Value{}
		for _, k := range a.MapKeys() {
			keys[fmt.Sprint(k.Interface())] = k
		}
		for _, k := range b.MapKeys() {
			keys[fmt.Sprint(k.Interface())] = k
		}
		names := make([]string, 0, len(keys))
		for s := range keys {
			names = append(names, s)
		}
		sort.Strings(names)
		for _, s := range names {
			av, bv := a.MapIndex(keys[s]), b.MapIndex(keys[s])
			p := path + "." + s
			switch {
			case !av.IsValid():
				*out = append(*out, p+" added")
			case !bv.IsValid():
				*out = append(*out, p+" removed")
			default:
				diffValue(p, av, bv, out)
			}
		}
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				*out = append(*out, path+" changed")
			}
			return
		}
		diffValue(path, a.Elem(), b.Elem(), out)
	default:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			*out = append(*out, path+" changed")
		}
	}
}
