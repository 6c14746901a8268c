package config

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// eal.args is an allow-list. EAL parses its arguments with getopt_long,
// which takes any unambiguous prefix of a long option ("--file-pre=x" is
// --file-prefix) and glues short options to their values ("-m512"), so a
// deny-list of spellings lets options through. Instead every argument is
// resolved the way getopt_long resolves it, against EAL's whole option
// table, and only the options an operator needs pass, with their values
// checked. The rest either is steer's to set (lcores, file prefix,
// devices, memory) or must not run at all (-d loads a library's code,
// --help exits 0 without forwarding, --proc-type makes a secondary).

// ealLong is EAL's long option table (DPDK 22.11, eal_common_options.c):
// what a prefix can resolve to. need: the option takes a value
// (required), "" none, "opt" optional (only as --name=value).
var ealLong = map[string]string{
	"allow": "req", "base-virtaddr": "req", "block": "req", "create-uio-dev": "",
	"file-prefix": "req", "force-max-simd-bitwidth": "req", "help": "", "huge-dir": "req",
	"huge-unlink": "opt", "huge-worker-stack": "opt", "in-memory": "", "iova-mode": "req",
	"lcores": "req", "legacy-mem": "", "log-level": "req", "main-lcore": "req",
	"match-allocations": "", "mbuf-pool-ops-name": "req", "no-hpet": "", "no-huge": "",
	"no-pci": "", "no-shconf": "", "no-telemetry": "", "proc-type": "req",
	"single-file-segments": "", "socket-limit": "req", "socket-mem": "req", "syslog": "req",
	"telemetry": "", "trace": "req", "trace-bufsz": "req", "trace-dir": "req",
	"trace-mode": "req", "vdev": "req", "vfio-intr": "req", "vfio-vf-token": "req",
	"vmware-tsc-map": "",
}

// ealShort is EAL's short option string: true for the ones with a value.
var ealShort = map[byte]bool{'a': true, 'b': true, 'c': true, 'd': true, 'h': false, 'l': true,
	'm': true, 'n': true, 'r': true, 's': true, 'v': false}

var (
	uintList  = regexp.MustCompile(`^[0-9]+(,[0-9]+)*$`)
	logLevel  = regexp.MustCompile(`^([A-Za-z0-9_.*:-]+[:=])?([1-8]|emergency|alert|critical|error|warning|notice|info|debug)$`)
	hexAddr   = regexp.MustCompile(`^(0x)?[0-9a-fA-F]+$`)
	size      = regexp.MustCompile(`^[0-9]+[kKmMgG]?$`)
	uuid      = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	anyValue  = regexp.MustCompile(`^.+$`)
	positive  = func(s string) bool { n, err := strconv.Atoi(s); return err == nil && n > 0 }
	oneOfFunc = func(vs ...string) func(string) bool { return func(s string) bool { return slices.Contains(vs, s) } }
)

// ealAllowed are the options eal.args may carry, each with its value's
// check (nil: the option takes none) and a word on what it is for.
var ealAllowed = map[string]struct {
	ok   func(string) bool
	what string
}{
	"n":                       {positive, "memory channels"},
	"r":                       {positive, "memory ranks"},
	"v":                       {nil, "print the DPDK version at start"},
	"base-virtaddr":           {hexAddr.MatchString, "a hex address"},
	"force-max-simd-bitwidth": {oneOfFunc("64", "128", "256", "512"), "64, 128, 256 or 512"},
	"huge-dir":                {anyValue.MatchString, "a hugetlbfs mount point"},
	"huge-worker-stack":       {size.MatchString, "a stack size (optional)"},
	"iova-mode":               {oneOfFunc("pa", "va"), "pa or va"},
	"legacy-mem":              {nil, ""},
	"log-level":               {logLevel.MatchString, "[<type pattern>:]<level>, level 1..8 or a name (error, info, debug...)"},
	"match-allocations":       {nil, ""},
	"no-hpet":                 {nil, ""},
	"no-telemetry":            {nil, ""},
	"single-file-segments":    {nil, ""},
	"socket-limit":            {uintList.MatchString, "MB per socket, comma separated"},
	"socket-mem":              {uintList.MatchString, "MB per socket, comma separated"},
	"syslog":                  {oneOfFunc("auth", "cron", "daemon", "ftp", "kern", "lpr", "mail", "news", "syslog", "user", "uucp", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"), "a syslog facility"},
	"telemetry":               {nil, ""},
	"trace":                   {anyValue.MatchString, "a trace point pattern"},
	"trace-bufsz":             {size.MatchString, "a size such as 2M"},
	"trace-dir":               {anyValue.MatchString, "a directory"},
	"trace-mode":              {oneOfFunc("o", "overwrite", "d", "discard"), "overwrite or discard"},
	"vfio-intr":               {oneOfFunc("legacy", "msi", "msix"), "legacy, msi or msix"},
	"vfio-vf-token":           {uuid.MatchString, "a UUID"},
}

// refusedWhy says why some options are never allowed.
var refusedWhy = map[string]string{
	"d": "it loads a shared library and runs its code", "h": "it prints EAL's usage and exits without forwarding",
	"help": "it prints EAL's usage and exits without forwarding", "proc-type": "it would make steer a secondary process",
	"b": "steer probes only the configured PCI devices", "block": "steer probes only the configured PCI devices",
	"in-memory": "steer manages EAL's runtime files", "no-shconf": "steer manages EAL's runtime files",
	"s": "steer runs no service cores",
}

// steerSets are the options steer derives from the config.
var steerSets = map[string]string{
	"l": "eal.lcores", "lcores": "eal.lcores", "c": "eal.lcores", "main-lcore": "eal.main_lcore",
	"file-prefix": "eal.file_prefix", "no-huge": "eal.huge", "huge-unlink": "eal.huge",
	"m": "eal.memory_mb", "vdev": "ports[].device", "a": "ports[].device", "allow": "ports[].device",
	"no-pci": "ports[].device (added when no port is a PCI device)",
}

// ealArgProblem is one argument's problem with the index it names.
type ealArgProblem struct {
	i          int
	value, msg string
}

// checkEALArgs resolves args as EAL's getopt_long would and returns the
// problems, each naming the argument that has it.
func checkEALArgs(args []string) []ealArgProblem {
	var ps []ealArgProblem
	add := func(i int, format string, a ...any) {
		ps = append(ps, ealArgProblem{i, args[i], fmt.Sprintf(format, a...)})
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "":
			add(i, "empty argument")
		case a == "--" || a == "-" || !strings.HasPrefix(a, "-"):
			add(i, "not an EAL option (options start with - or --)")
		case strings.HasPrefix(a, "--"):
			at := i
			name, value, hasValue := strings.Cut(a[2:], "=")
			opt, err := resolveLong(name)
			if err != nil {
				add(at, "%v", err)
				continue
			}
			if msg := allowed(opt, "", false); msg != "" {
				add(at, "%s", msg)
				if ealLong[opt] == "req" && !hasValue {
					i++ // its value is not an option of its own
				}
				continue
			}
			need := ealLong[opt]
			if need == "req" && !hasValue {
				if i+1 >= len(args) {
					add(at, "--%s needs a value", opt)
					continue
				}
				i++
				value, hasValue = args[i], true
			}
			if need == "" && hasValue {
				add(at, "--%s takes no value", opt)
				continue
			}
			if msg := allowed(opt, value, hasValue); msg != "" {
				add(at, "%s", msg)
			}
		default: // a cluster of short options; one that takes a value ends it
			at := i
			for j := 1; j < len(a); j++ {
				c := a[j]
				takes, known := ealShort[c]
				if !known {
					add(at, "-%c is not an EAL option", c)
					break
				}
				if msg := allowed(string(c), "", false); msg != "" {
					add(at, "%s", msg)
					if takes && j+1 == len(a) {
						i++ // its value is not an option of its own
					}
					break
				}
				value := ""
				if takes {
					if value = a[j+1:]; value == "" {
						if i+1 >= len(args) {
							add(at, "-%c needs a value", c)
							break
						}
						i++
						value = args[i]
					}
				}
				if msg := allowed(string(c), value, takes); msg != "" {
					add(at, "%s", msg)
				}
				if takes {
					break
				}
			}
		}
	}
	return ps
}

// resolveLong finds the long option name names: itself, or the one
// option it is a prefix of.
func resolveLong(name string) (string, error) {
	if _, ok := ealLong[name]; ok {
		return name, nil
	}
	var matches []string
	for o := range ealLong {
		if name != "" && strings.HasPrefix(o, name) {
			matches = append(matches, o)
		}
	}
	slices.Sort(matches)
	switch len(matches) {
	case 0:
		return "", fmt.Errorf("--%s is not an EAL option", name)
	case 1:
		return matches[0], nil
	}
	return "", fmt.Errorf("--%s is ambiguous (EAL would refuse it): --%s", name, strings.Join(matches, ", --"))
}

// allowed says what is wrong with option opt (a long name or a short
// letter) and its value, "" when nothing.
func allowed(opt, value string, hasValue bool) string {
	dash := "--"
	if len(opt) == 1 {
		dash = "-"
	}
	if field, ok := steerSets[opt]; ok {
		return fmt.Sprintf("%s%s is set by steer from %s; set that instead", dash, opt, field)
	}
	a, ok := ealAllowed[opt]
	if !ok {
		why := ""
		if w, ok := refusedWhy[opt]; ok {
			why = " (" + w + ")"
		}
		return fmt.Sprintf("%s%s is not allowed%s; eal.args allows %s", dash, opt, why, allowedList())
	}
	if a.ok != nil && hasValue && !a.ok(value) {
		return fmt.Sprintf("%s%s %q: want %s", dash, opt, value, a.what)
	}
	return ""
}

func allowedList() string {
	var out []string
	for o := range ealAllowed {
		if len(o) == 1 {
			out = append(out, "-"+o)
		} else {
			out = append(out, "--"+o)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}
