package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steer-router/steer/pkg/fwd"
	"github.com/steer-router/steer/pkg/inet"
)

// Limits checked by Validate: the C data plane's (pkg/fwd).
const (
	MaxPorts      = fwd.MaxPorts
	MaxQueues     = fwd.MaxQueues // rx_queues and tx_queues per port
	MaxRxPerLcore = fwd.MaxRxPerLcore
	MaxWorkers    = fwd.MaxWorkers
	MaxBurst      = fwd.Burst
	MaxRETA       = fwd.MaxRETA
)

var (
	// pciAddr is a PCI address with optional domain: "0000:03:00.0", "03:00.0".
	pciAddr = regexp.MustCompile(`^(?:[0-9a-fA-F]{4,8}:)?[0-9a-fA-F]{2}:[01][0-9a-fA-F]\.[0-7]$`)
	// vdevName is a virtual device's driver and instance: "net_pcap0", "net_af_packet1".
	vdevName = regexp.MustCompile(`^net_[a-z][a-z0-9_]*[0-9]+$`)
	// vdevArg is one "key=value" (or bare "key") devarg of a vdev spec.
	vdevArg    = regexp.MustCompile(`^[A-Za-z0-9_.-]+(?:=.*)?$`)
	portName   = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,15}$`)
	filePrefix = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

type validator struct {
	dir       string // a relative routes_file is read from here ("": the working directory)
	ps        Problems
	connected inet.Addresses        // every valid port address, in order (Port: the port's index)
	own       map[netip.Addr]string // router address -> field naming it
}

func (v *validator) add(field, value, format string, args ...any) {
	v.ps = append(v.ps, Problem{Field: field, Value: value, Msg: fmt.Sprintf(format, args...)})
}

// Validate checks c against every rule and returns all the problems found (nil
// when there are none). It also fills the derived fields: EAL.LcoreIDs,
// Port.Prefixes, Route.Net/Gateway, Neighbor.Addr/HW (left zero where the
// source field is invalid) and FileRoutes (it reads routes_file, a relative
// path from the working directory; Load reads it from the config file's).
// Defaults are not applied here: Load and Parse apply them before validating.
func (c *Config) Validate() Problems { return c.validate("") }

func (c *Config) validate(dir string) Problems {
	v := &validator{dir: dir, own: map[netip.Addr]string{}}
	v.eal(c)
	v.ports(c)
	v.lcoreMap(c)
	v.poll(c)
	v.mempool(c)
	v.distributor(c)
	v.routes(c)
	v.routesFile(c)
	v.neighbors(c)
	v.slowPath(c)
	v.metrics(c)
	v.log(c)
	v.memoryFits(c) // last: it stays quiet when a field it depends on has a problem
	return v.ps
}

func (v *validator) eal(c *Config) {
	e := &c.EAL
	e.LcoreIDs = nil
	if e.Lcores == "" {
		v.add("eal.lcores", "", `required: the EAL lcores steer runs on, e.g. "0-3" (-l syntax) or "0@0,1@1" (--lcores syntax)`)
	} else if ids, err := parseLcores(e.Lcores); err != nil {
		v.add("eal.lcores", e.Lcores, "%v", err)
	} else {
		e.LcoreIDs = ids
	}
	switch {
	case e.MainLcore < 0 || e.MainLcore > maxLcore:
		v.add("eal.main_lcore", strconv.Itoa(e.MainLcore), "out of range 0..%d", maxLcore)
	case e.LcoreIDs != nil && !slices.Contains(e.LcoreIDs, e.MainLcore):
		v.add("eal.main_lcore", strconv.Itoa(e.MainLcore), "lcore %d is not in eal.lcores %q", e.MainLcore, e.Lcores)
	}
	switch {
	case e.MemoryMB <= 0 || e.MemoryMB > 65536:
		v.add("eal.memory_mb", strconv.Itoa(e.MemoryMB), "must be 1..65536 (MB)")
	case !e.Huge && e.MemoryMB < 64:
		v.add("eal.memory_mb", strconv.Itoa(e.MemoryMB), "with huge: false EAL needs at least 64 MB")
	}
	switch {
	case e.FilePrefix == "":
		v.add("eal.file_prefix", "", "required (unique per DPDK process)")
	case len(e.FilePrefix) > 32:
		v.add("eal.file_prefix", e.FilePrefix, "longer than 32 characters")
	case !filePrefix.MatchString(e.FilePrefix):
		v.add("eal.file_prefix", e.FilePrefix, "only letters, digits, '_' and '-' are allowed")
	}
	for _, p := range checkEALArgs(e.Args) {
		v.add(fmt.Sprintf("eal.args[%d]", p.i), p.value, "%s", p.msg)
	}
}

func (v *validator) ports(c *Config) {
	switch {
	case len(c.Ports) == 0:
		v.add("ports", "", "at least one port is required")
	case len(c.Ports) > MaxPorts:
		v.add("ports", strconv.Itoa(len(c.Ports)), "at most %d ports", MaxPorts)
	}
	names := map[string]string{}
	devs := map[string]string{}
	for i := range c.Ports {
		p := &c.Ports[i]
		p.Prefixes = nil
		f := fmt.Sprintf("ports[%d]", i)

		switch {
		case p.Name == "":
			v.add(f+".name", "", "required")
		case !portName.MatchString(p.Name):
			v.add(f+".name", p.Name, "must match ^[a-z][a-z0-9_-]{0,15}$ (lower case, starts with a letter, at most 16 characters)")
		case names[p.Name] != "":
			v.add(f+".name", p.Name, "duplicate port name, already used by %s", names[p.Name])
		default:
			names[p.Name] = f
		}

		if v.device(f+".device", p) {
			key := p.DeviceName()
			if p.IsPCI() {
				key = canonicalPCI(key)
			}
			if prev := devs[key]; prev != "" {
				v.add(f+".device", p.Device, "device %s is already used by %s", p.DeviceName(), prev)
			} else {
				devs[key] = f
			}
		}

		v.intRange(f+".rx_queues", p.RxQueues, 1, MaxQueues)
		v.intRange(f+".tx_queues", p.TxQueues, 1, MaxQueues)
		v.pow2Range(f+".rx_desc", p.RxDesc, 64, 4096)
		v.pow2Range(f+".tx_desc", p.TxDesc, 64, 4096)
		v.intRange(f+".mtu", p.MTU, 68, 9000)
		v.oneOf(f+".steering", p.Steering, "auto", "rss", "distributor")

		if len(p.Addresses) == 0 {
			v.add(f+".addresses", "", "at least one IPv4 address with prefix length is required, e.g. 10.0.0.1/24")
		}
		for j, a := range p.Addresses {
			v.address(c, i, fmt.Sprintf("%s.addresses[%d]", f, j), a)
		}
	}
}

// device checks a port's device and reports whether it is well-formed.
func (v *validator) device(f string, p *Port) bool {
	d := p.Device
	switch {
	case d == "":
		v.add(f, "", `required: a PCI address ("0000:03:00.0") or a vdev spec ("net_pcap0,rx_pcap=in.pcap")`)
		return false
	case p.IsPCI():
		return true
	case strings.HasPrefix(d, "net_"):
		name, args, _ := strings.Cut(d, ",")
		if !vdevName.MatchString(name) {
			v.add(f, d, "vdev name %q must be net_<driver><instance>, e.g. net_pcap0 or net_tap1", name)
			return false
		}
		if args != "" {
			for _, a := range strings.Split(args, ",") {
				if !vdevArg.MatchString(a) {
					v.add(f, d, "bad vdev argument %q: expected key=value", a)
					return false
				}
			}
		}
		return true
	default:
		v.add(f, d, `neither a PCI address ("0000:03:00.0", "03:00.0") nor a vdev spec starting with net_ ("net_pcap0,rx_pcap=in.pcap")`)
		return false
	}
}

// canonicalPCI gives a PCI address its domain and lower case, so that
// "03:00.0" and "0000:03:00.0" compare equal.
func canonicalPCI(a string) string {
	if strings.Count(a, ":") == 1 {
		a = "0000:" + a
	}
	return strings.ToLower(a)
}

func (v *validator) address(c *Config, port int, f, a string) {
	pfx, ok := v.prefix(f, a)
	if !ok {
		return
	}
	addr := pfx.Addr()
	switch {
	case pfx.Bits() < 8:
		v.add(f, a, "prefix length /%d is too short for an interface address (8..32)", pfx.Bits())
		return
	case addr.IsUnspecified() || addr.IsLoopback() || addr.IsMulticast() || addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		v.add(f, a, "not a unicast host address")
		return
	case inet.HasBroadcast(pfx) && addr == pfx.Masked().Addr():
		v.add(f, a, "%s is the network address of %s; use a host address", addr, pfx.Masked())
		return
	case inet.HasBroadcast(pfx) && addr == inet.Last(pfx):
		v.add(f, a, "%s is the broadcast address of %s; use a host address", addr, pfx.Masked())
		return
	}
	if prev, dup := v.own[addr]; dup {
		v.add(f, a, "address %s is already assigned at %s", addr, prev)
		return
	}
	for _, o := range v.connected {
		if o.Port != port && o.Prefix.Masked().Overlaps(pfx.Masked()) {
			v.add(f, a, "subnet %s overlaps %s of port %s (%s)", pfx.Masked(), o.Prefix.Masked(), o.PortName, o.Where)
			return
		}
	}
	v.own[addr] = f
	v.connected = append(v.connected, inet.Address{Prefix: pfx, Port: port, PortName: c.Ports[port].Name, Where: f})
	c.Ports[port].Prefixes = append(c.Ports[port].Prefixes, pfx)
}

// prefix parses an IPv4 CIDR, reporting what is wrong with it.
func (v *validator) prefix(f, s string) (netip.Prefix, bool) {
	if s == "" {
		v.add(f, "", "required: an IPv4 prefix like 10.0.0.0/24")
		return netip.Prefix{}, false
	}
	pfx, err := inet.ParsePrefix(s)
	if err != nil {
		v.add(f, s, "%v", err)
		return netip.Prefix{}, false
	}
	return pfx, true
}

// addr4 parses an IPv4 address, reporting what is wrong with it.
func (v *validator) addr4(f, s string) (netip.Addr, bool) {
	if s == "" {
		v.add(f, "", "required: an IPv4 address like 10.0.0.2")
		return netip.Addr{}, false
	}
	a, err := inet.ParseAddr(s)
	if err != nil {
		v.add(f, s, "%v", err)
		return netip.Addr{}, false
	}
	return a, true
}

type rxKey struct{ port, queue int }

func (v *validator) lcoreMap(c *Config) {
	if len(c.Lcores) == 0 {
		v.add("lcores", "", "at least one entry is required: the lcores that poll port rx queues")
	}
	ids := c.EAL.LcoreIDs
	lcores := map[int]string{}
	polled := map[rxKey]string{}
	for i, lc := range c.Lcores {
		f := fmt.Sprintf("lcores[%d]", i)
		lv := strconv.Itoa(lc.Lcore)
		switch {
		case lc.Lcore < 0 || lc.Lcore > maxLcore:
			v.add(f+".lcore", lv, "out of range 0..%d", maxLcore)
		case ids != nil && !slices.Contains(ids, lc.Lcore):
			v.add(f+".lcore", lv, "lcore %d is not in eal.lcores %q", lc.Lcore, c.EAL.Lcores)
		case lc.Lcore == c.EAL.MainLcore:
			v.add(f+".lcore", lv, "lcore %d is eal.main_lcore, which runs the control plane; use another lcore", lc.Lcore)
		}
		if prev, dup := lcores[lc.Lcore]; dup {
			v.add(f+".lcore", lv, "lcore %d already has an entry at %s; merge them", lc.Lcore, prev)
		} else {
			lcores[lc.Lcore] = f
		}
		if len(lc.Rx) == 0 && !lc.Worker {
			v.add(f, lv, "lcore %d has no rx queues and is not a worker", lc.Lcore)
		}
		if len(lc.Rx) > MaxRxPerLcore {
			v.add(f+".rx", strconv.Itoa(len(lc.Rx)), "an lcore polls at most %d rx queues", MaxRxPerLcore)
		}
		for j, q := range lc.Rx {
			qf := fmt.Sprintf("%s.rx[%d]", f, j)
			if q.Port == "" {
				v.add(qf+".port", "", "required: a port name")
				continue
			}
			pi, ok := c.Port(q.Port)
			if !ok {
				v.add(qf+".port", q.Port, "no port named %q", q.Port)
				continue
			}
			n := c.Ports[pi].RxQueues
			if q.Queue < 0 || (n >= 1 && n <= MaxQueues && q.Queue >= n) {
				v.add(qf+".queue", strconv.Itoa(q.Queue), "port %s has rx queues 0..%d", q.Port, n-1)
				continue
			}
			k := rxKey{pi, q.Queue}
			if prev, dup := polled[k]; dup {
				v.add(qf, fmt.Sprintf("%s/%d", q.Port, q.Queue), "queue %d of port %s is already polled at %s; each rx queue has exactly one poller", q.Queue, q.Port, prev)
				continue
			}
			polled[k] = fmt.Sprintf("%s (lcore %d)", qf, lc.Lcore)
		}
	}
	v.roles(c)
	for i, p := range c.Ports {
		if first, _ := c.Port(p.Name); first != i || p.Name == "" || p.RxQueues < 1 || p.RxQueues > MaxQueues {
			continue
		}
		for q := 0; q < p.RxQueues; q++ {
			if _, ok := polled[rxKey{i, q}]; !ok {
				v.add(fmt.Sprintf("ports[%d].rx_queues", i), strconv.Itoa(p.RxQueues), "queue %d of port %s is polled by no lcore", q, p.Name)
			}
		}
	}
}

// poll: the default mode and each lcore's own, which becomes its
// PollMode.
func (v *validator) poll(c *Config) {
	modes := []string{PollBusy, PollAdaptive, PollInterrupt}
	v.oneOf("poll.mode", c.Poll.Mode, modes...)
	c.Poll.Sleep = v.duration("poll.max_sleep", c.Poll.MaxSleep, time.Microsecond, 100*time.Millisecond)
	for i := range c.Lcores {
		lc := &c.Lcores[i]
		lc.PollMode = c.Poll.Mode
		if lc.Poll != "" {
			v.oneOf(fmt.Sprintf("lcores[%d].poll", i), lc.Poll, modes...)
			lc.PollMode = lc.Poll
		}
	}
}

// roles: the distributor needs workers, and workers need a distributor
// port. `auto` is decided at start from the device (RSS or not), so only the
// explicit settings can be checked here; steer run checks the rest.
func (v *validator) roles(c *Config) {
	workers := 0
	for _, lc := range c.Lcores {
		if lc.Worker {
			workers++
		}
	}
	if workers > MaxWorkers {
		v.add("lcores", strconv.Itoa(workers), "at most %d lcores can be workers", MaxWorkers)
	}
	allRSS := len(c.Ports) > 0
	for i, p := range c.Ports {
		allRSS = allRSS && p.Steering == "rss"
		if p.Steering == "distributor" && workers == 0 {
			v.add(fmt.Sprintf("ports[%d].steering", i), p.Steering, "no lcore is a worker (worker: true): the distributor would feed nobody")
		}
	}
	if allRSS {
		for i, lc := range c.Lcores {
			if lc.Worker {
				v.add(fmt.Sprintf("lcores[%d].worker", i), "true", "every port uses rss steering, so nothing feeds lcore %d as a worker", lc.Lcore)
			}
		}
	}
}

func (v *validator) mempool(c *Config) {
	m := c.Mempool
	if m.Mbufs != 0 && (m.Mbufs < 1023 || m.Mbufs > 16777215) {
		v.add("mempool.mbufs", strconv.Itoa(m.Mbufs), "must be 0 (sized from queues and lcores) or 1023..16777215")
	}
	// rte_mempool_create also wants cache*1.5 <= mbufs, which these ranges
	// already guarantee (512*1.5 < 1023).
	v.intRange("mempool.cache", m.Cache, 0, 512)
	v.intRange("mempool.data_room", m.DataRoom, 1024, 65535)
}

func (v *validator) distributor(c *Config) {
	d := c.Distributor
	v.pow2Range("distributor.ring_size", d.RingSize, 64, 65536)
	v.pow2Range("distributor.reta_size", d.RetaSize, 1, MaxRETA)
	v.intRange("distributor.burst", d.Burst, 1, MaxBurst)
	v.oneOf("distributor.on_full", d.OnFull, "drop", "backpressure")
	c.Distributor.Stall = v.duration("distributor.max_stall", d.MaxStall, 0, time.Second)
	v.oneOf("distributor.hash", d.Hash, "auto", "l3", "l4")
	b := &c.Distributor.Balance
	v.oneOf("distributor.balance.mode", b.Mode, "auto", "off")
	b.Every = v.duration("distributor.balance.interval", b.Interval, 10*time.Millisecond, time.Minute)
	b.HoldFor = v.duration("distributor.balance.hold", b.Hold, 0, time.Hour)
	v.floatRange("distributor.balance.busy", b.Busy, 0.5, 1)
	v.floatRange("distributor.balance.min_gain", b.MinGain, 0, 1)
}

func (v *validator) routes(c *Config) {
	seen := map[netip.Prefix]string{}
	for i := range c.Routes {
		r := &c.Routes[i]
		r.Net, r.Gateway = netip.Prefix{}, netip.Addr{}
		f := fmt.Sprintf("routes[%d]", i)
		if _, ok := v.prefix(f+".prefix", r.Prefix); ok {
			switch nw, err := inet.ParseRoutePrefix(r.Prefix); {
			case err != nil:
				v.add(f+".prefix", r.Prefix, "%v", err)
			case seen[nw] != "":
				v.add(f+".prefix", r.Prefix, "duplicate route: %s already has a route at %s", nw, seen[nw])
			default:
				seen[nw] = f
				if why, claimed := v.connected.Claimed(nw); claimed {
					v.add(f+".prefix", r.Prefix, "%s; steer routes it itself", why)
				} else {
					r.Net = nw
				}
			}
		}
		if gw, ok := v.addr4(f+".via", r.Via); ok && v.neighborAddr(f+".via", r.Via, gw, -1) {
			r.Gateway = gw
		}
	}
}

// neighborAddr checks that a, a next hop or static neighbour, is another
// host on a connected subnet: of port (an index) or, when port is -1, of any
// port.
func (v *validator) neighborAddr(f, s string, a netip.Addr, port int) bool {
	_, err := v.connected.Neighbor(a, port)
	switch {
	case errors.Is(err, inet.ErrPortHasNoAddress):
		// reported on the port
	case err != nil:
		v.add(f, s, "%v", err)
	}
	return err == nil
}

func (v *validator) neighbors(c *Config) {
	seen := map[netip.Addr]string{}
	for i := range c.Neighbors {
		n := &c.Neighbors[i]
		n.Addr, n.HW = netip.Addr{}, inet.MAC{}
		f := fmt.Sprintf("neighbors[%d]", i)

		port, portOK := c.Port(n.Port)
		if a, ok := v.addr4(f+".ip", n.IP); ok {
			if prev, dup := seen[a]; dup {
				v.add(f+".ip", n.IP, "duplicate neighbour: %s is already at %s", a, prev)
			} else {
				seen[a] = f
				if portOK && v.neighborAddr(f+".ip", n.IP, a, port) {
					n.Addr = a
				}
			}
		}
		if hw, ok := v.mac(f+".mac", n.MAC); ok {
			n.HW = hw
		}
		switch {
		case n.Port == "":
			v.add(f+".port", "", "required: the port the neighbour is reached through")
		case !portOK:
			v.add(f+".port", n.Port, "no port named %q", n.Port)
		}
	}
}

func (v *validator) mac(f, s string) (inet.MAC, bool) {
	if s == "" {
		v.add(f, "", "required: a unicast MAC like 02:00:00:00:00:02")
		return inet.MAC{}, false
	}
	hw, err := inet.ParseMAC(s)
	if err != nil {
		v.add(f, s, "%v", err)
		return inet.MAC{}, false
	}
	return hw, true
}

func (v *validator) metrics(c *Config) {
	l := c.Metrics.Listen
	if l == "" {
		return // disabled
	}
	host, port, err := net.SplitHostPort(l)
	if err != nil {
		v.add("metrics.listen", l, `not host:port, e.g. "127.0.0.1:9464" (empty disables metrics)`)
		return
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strings.TrimLeft(port, "0123456789") != "" {
		v.add("metrics.listen", l, "port %q must be a number 1..65535", port)
	}
	// The token's value is a secret: problems never show it.
	token := c.Metrics.APIToken()
	if strings.IndexFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		v.add("metrics.token", "", "contains spaces or control characters; it is sent as \"Authorization: Bearer <token>\"")
	}
	if token == "" && !loopbackHost(host) {
		v.add("metrics.token", "", "required when metrics.listen is not on loopback (%q): the API can change the router; "+
			"set metrics.token, STEER_METRICS_TOKEN or %s, or listen on 127.0.0.1", l, APITokenEnv)
	}
}

// loopbackHost reports whether a listen host only accepts local
// connections: "localhost", 127.0.0.0/8 or ::1. "" and 0.0.0.0 listen on
// every interface.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

func (v *validator) log(c *Config) {
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "auto", "console", "json")
}

func (v *validator) slowPath(c *Config) {
	v.pow2Range("slow_path.ring_size", c.SlowPath.RingSize, 64, 65536)
	v.intRange("slow_path.rate", c.SlowPath.Rate, 100, 10000000)
	v.intRange("fib.max_routes", c.FIB.MaxRoutes, 64, MaxFIBRoutes)
	v.intRange("fib.tbl8_groups", c.FIB.Tbl8Groups, 16, MaxTbl8Groups)
	v.fibCapacity(c) // routesfile.go
	a := &c.ARP
	a.Reachable = v.duration("arp.reachable_time", a.ReachableTime, time.Second, 24*time.Hour)
	a.Stale = v.duration("arp.stale_time", a.StaleTime, time.Second, 24*time.Hour)
	a.Retrans = v.duration("arp.retrans_time", a.RetransTime, 10*time.Millisecond, time.Minute)
	a.Hold = v.duration("arp.failed_hold", a.FailedHold, 0, time.Hour)
	v.intRange("arp.max_retries", a.MaxRetries, 1, 20)
	v.intRange("arp.max_pending", a.MaxPending, 0, 1024)
	v.intRange("arp.max_entries", a.MaxEntries, 16, 1<<20)
	v.intRange("icmp.rate", c.ICMP.Rate, 0, 1000000)
	v.intRange("icmp.burst", c.ICMP.Burst, 1, 1000000)
}

// FIB limits: rte_fib's RIB takes max_routes nodes from a mempool, and a
// DIR24_8 table with 4-byte entries indexes at most 2^24 tbl8 groups.
const (
	MaxFIBRoutes  = 1 << 24
	MaxTbl8Groups = 1 << 20
)

// duration parses a Go duration string within [lo, hi].
func (v *validator) duration(f, s string, lo, hi time.Duration) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		v.add(f, s, "must be a duration such as 500ms, 30s or 5m")
		return 0
	}
	if d < lo || d > hi {
		v.add(f, s, "must be %s..%s", lo, hi)
		return 0
	}
	return d
}

func (v *validator) intRange(f string, n, lo, hi int) {
	if n < lo || n > hi {
		v.add(f, strconv.Itoa(n), "must be %d..%d", lo, hi)
	}
}

func (v *validator) floatRange(f string, x, lo, hi float64) {
	if x < lo || x > hi {
		v.add(f, strconv.FormatFloat(x, 'g', -1, 64), "must be %g..%g", lo, hi)
	}
}

func (v *validator) pow2Range(f string, n, lo, hi int) {
	if n < lo || n > hi || n&(n-1) != 0 {
		v.add(f, strconv.Itoa(n), "must be a power of two %d..%d", lo, hi)
	}
}

func (v *validator) oneOf(f, s string, allowed ...string) {
	if !slices.Contains(allowed, s) {
		v.add(f, s, "must be one of %s", strings.Join(allowed, ", "))
	}
}
