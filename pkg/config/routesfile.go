package config

// routes_file: a routing table too large for YAML (a full Internet table),
// one route per line, read and checked with the rest of the config. The
// same format feeds `steer routes add --file` (ParseRoutes).

import (
	"cmp"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/steer-router/steer/pkg/inet"
)

// FileRoute is one route of a routes file and the line it is on.
type FileRoute struct {
	Net     netip.Prefix
	Gateway netip.Addr
	Line    int
}

// maxFileProblems bounds the problems listed for one routes file: a file
// in the wrong format would otherwise give one per line.
const maxFileProblems = 20

const routeLineFormat = `expected "PREFIX via GATEWAY", e.g. "198.51.100.0/24 via 203.0.113.2"`

// fileProblems collects a routes file's problems, each starting with
// "name:line: ".
type fileProblems struct {
	name string
	ps   Problems
	more int
}

func (f *fileProblems) add(line int, value, format string, args ...any) {
	if len(f.ps) >= maxFileProblems {
		f.more++
		return
	}
	f.ps = append(f.ps, Problem{Value: value, Msg: fmt.Sprintf("%s:%d: %s", f.name, line, fmt.Sprintf(format, args...))})
}

func (f *fileProblems) list() Problems {
	if f.more > 0 {
		return append(f.ps, Problem{Msg: fmt.Sprintf("%s: %d more problem(s) not listed", f.name, f.more)})
	}
	return f.ps
}

// ParseRoutes reads the text of a routes file: one "PREFIX via GATEWAY" per
// line ("198.51.100.0/24 via 203.0.113.2"), words separated by spaces or
// tabs, "#" starting a comment, blank lines ignored. It checks the syntax
// (a prefix without host bits, an IPv4 gateway) and that no prefix is
// given twice; name is how the problems name the file ("bgp.txt:12:
// prefix: ..."). What the router's addresses make of a route (a gateway on
// a connected subnet, a prefix that is not the router's own) is for
// validation (routes_file) or the router (the API) to say.
func ParseRoutes(name string, data []byte) ([]FileRoute, Problems) {
	fp := &fileProblems{name: name}
	routes := parseRoutes(fp, data)
	if ps := fp.list(); len(ps) > 0 {
		return nil, ps
	}
	return routes, nil
}

func parseRoutes(fp *fileProblems, data []byte) []FileRoute {
	text := string(data) // one copy; every word is a slice of it
	routes := make([]FileRoute, 0, strings.Count(text, "\n")+1)
	for line := 1; text != ""; line++ {
		l := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			l, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		p, rest := word(l)
		if p == "" {
			continue // blank or a comment
		}
		via, rest := word(rest)
		gw, rest := word(rest)
		if extra, _ := word(rest); via != "via" || gw == "" || extra != "" {
			fp.add(line, strings.TrimSpace(l), routeLineFormat)
			continue
		}
		pfx, err := inet.ParseRoutePrefix(p)
		if err != nil {
			fp.add(line, p, "prefix: %v", err)
		}
		a, gerr := inet.ParseAddr(gw)
		if gerr != nil {
			fp.add(line, gw, "via: %v", gerr)
		}
		if err == nil && gerr == nil {
			routes = append(routes, FileRoute{Net: pfx, Gateway: a, Line: line})
		}
	}
	if len(routes) > MaxFIBRoutes {
		fp.add(routes[MaxFIBRoutes].Line, "", "more than %d routes, the most a FIB holds (fib.max_routes)", MaxFIBRoutes)
		return routes
	}
	duplicates(fp, routes)
	return routes
}

// word splits the first word (up to a space, tab or CR) off s.
func word(s string) (string, string) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r') {
		i++
	}
	j := i
	for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '\r' {
		j++
	}
	return s[i:j], s[j:]
}

// duplicates reports every prefix given again, naming the line of its
// first route, by sorting packed (prefix, index) keys: for a million
// routes 86 ms against 107 for a map of the packed prefixes, in one slice.
func duplicates(fp *fileProblems, routes []FileRoute) {
	const idxBits = 26 // > log2(MaxFIBRoutes)
	keys := make([]uint64, len(routes))
	for i, r := range routes {
		keys[i] = prefixKey(r.Net)<<idxBits | uint64(i)
	}
	slices.Sort(keys)
	var dups [][2]int // (index, index of the first route of its prefix)
	first := 0
	for i := 1; i < len(keys); i++ {
		if keys[i]>>idxBits != keys[i-1]>>idxBits {
			first = i
			continue
		}
		dups = append(dups, [2]int{int(keys[i] & (1<<idxBits - 1)), int(keys[first] & (1<<idxBits - 1))})
	}
	slices.SortFunc(dups, func(a, b [2]int) int { return cmp.Compare(a[0], b[0]) })
	for _, d := range dups {
		r := routes[d[0]]
		fp.add(r.Line, r.Net.String(), "prefix: duplicate route: %s already has a route at line %d", r.Net, routes[d[1]].Line)
	}
}

// prefixKey packs an IPv4 prefix into 38 bits: address, then length.
func prefixKey(p netip.Prefix) uint64 {
	a := p.Addr().As4()
	return (uint64(a[0])<<24|uint64(a[1])<<16|uint64(a[2])<<8|uint64(a[3]))<<6 | uint64(p.Bits())
}

// routesFilePath is where routes_file is read: a relative path from the
// config file's directory (Load), or the working directory.
func (v *validator) routesFilePath(c *Config) string {
	if filepath.IsAbs(c.RoutesFile) || v.dir == "" {
		return c.RoutesFile
	}
	return filepath.Join(v.dir, c.RoutesFile)
}

// routesFile reads routes_file and checks every route as routes[] entries
// are checked; problems name the file and line ("routes_file: bgp.txt:12:
// via: not on a connected subnet of any port").
func (v *validator) routesFile(c *Config) {
	c.FileRoutes = nil
	if c.RoutesFile == "" {
		return
	}
	data, err := os.ReadFile(v.routesFilePath(c))
	if err != nil {
		v.add("routes_file", c.RoutesFile, "%v", err)
		return
	}
	fp := &fileProblems{name: c.RoutesFile}
	routes := parseRoutes(fp, data)
	inYAML := make(map[netip.Prefix]int, len(c.Routes))
	for i, r := range c.Routes {
		if r.Net.IsValid() {
			inYAML[r.Net] = i
		}
	}
	gateways := map[netip.Addr]error{} // a table has few gateways: each checked once
	for _, r := range routes {
		if i, dup := inYAML[r.Net]; dup {
			fp.add(r.Line, r.Net.String(), "prefix: %s already has a route at routes[%d]; a prefix has one static route", r.Net, i)
		} else if why, claimed := v.connected.Claimed(r.Net); claimed {
			fp.add(r.Line, r.Net.String(), "prefix: %s; steer routes it itself", why)
		}
		err, known := gateways[r.Gateway]
		if !known {
			_, err = v.connected.Neighbor(r.Gateway, -1)
			gateways[r.Gateway] = err
		}
		if err != nil {
			fp.add(r.Line, r.Gateway.String(), "via: %v", err)
		}
	}
	ps := fp.list()
	for _, p := range ps {
		v.ps = append(v.ps, p.In("routes_file"))
	}
	if len(ps) == 0 {
		c.FileRoutes = routes
	}
}

// fibCapacity checks that the FIB holds what it starts with: the router's
// own entries (each address's /32 and subnet, and a subnet's network and
// broadcast /32s), the routes of routes and routes_file and the static
// neighbours' /32s within fib.max_routes, and one tbl8 group per /24 that
// holds a prefix longer than /24 within fib.tbl8_groups.
func (v *validator) fibCapacity(c *Config) {
	own := map[netip.Prefix]struct{}{}
	for _, a := range v.connected {
		own[a.Prefix.Masked()] = struct{}{}
		own[netip.PrefixFrom(a.Prefix.Addr(), 32)] = struct{}{}
		if inet.HasBroadcast(a.Prefix) {
			own[netip.PrefixFrom(a.Prefix.Masked().Addr(), 32)] = struct{}{}
			own[netip.PrefixFrom(inet.Last(a.Prefix), 32)] = struct{}{}
		}
	}
	groups := map[uint32]struct{}{}
	long := func(p netip.Prefix) {
		if p.Bits() > 24 {
			a := p.Addr().As4()
			groups[uint32(a[0])<<16|uint32(a[1])<<8|uint32(a[2])] = struct{}{}
		}
	}
	for p := range own {
		long(p)
	}
	routes := 0
	for _, r := range c.Routes {
		if r.Net.IsValid() {
			routes++
			long(r.Net)
		}
	}
	for _, r := range c.FileRoutes {
		long(r.Net)
	}
	neighbors := 0
	for _, n := range c.Neighbors {
		if n.Addr.IsValid() {
			neighbors++
			long(netip.PrefixFrom(n.Addr, 32))
		}
	}
	f := c.FIB
	if n := routes + len(c.FileRoutes) + neighbors + len(own); f.MaxRoutes >= 64 && f.MaxRoutes <= MaxFIBRoutes && n > f.MaxRoutes {
		v.add("fib.max_routes", strconv.Itoa(f.MaxRoutes), "too small for the %d entries the FIB starts with: %d in routes, %d in routes_file, "+
			"%d static neighbours, %d for the ports' addresses; raise it (dpdk-config/README.md: the memory it takes)",
			n, routes, len(c.FileRoutes), neighbors, len(own))
	}
	if n := len(groups); f.Tbl8Groups >= 16 && f.Tbl8Groups <= MaxTbl8Groups && n > f.Tbl8Groups {
		v.add("fib.tbl8_groups", strconv.Itoa(f.Tbl8Groups), "too small for the %d groups the FIB starts with: one per /24 that holds "+
			"a prefix longer than /24 (routes, routes_file, the ports' addresses, static neighbours); raise it", n)
	}
}
