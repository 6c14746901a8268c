package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// machine is what results.json says of the machine and the builds.
type machine struct {
	CPUModel      string     `json:"cpu_model"`
	Hypervisor    *string    `json:"hypervisor"`
	Nproc         int        `json:"nproc"`
	CPUMHz        *float64   `json:"cpu_mhz"`
	ConstantTSC   bool       `json:"constant_tsc"`
	Kernel        string     `json:"kernel"`
	DPDK          string     `json:"dpdk"`
	DPDKPackage   string     `json:"dpdk_package"`
	SteerVersion  string     `json:"steer_version"`
	Git           string     `json:"git"`
	Hugepages     bool       `json:"hugepages"`
	HugepagesFree *int       `json:"hugepages_free"`
	Steers        []steerBin `json:"steer,omitempty"` // A/B: every binary
}

func (b *bench) machineInfo() machine {
	lscpu := output("lscpu")
	cpuinfo := readText("/proc/cpuinfo")
	m := machine{
		CPUModel:      orQ(match(`(?m)^Model name:\s*(.+)$`, lscpu)),
		Nproc:         onlineCPUs(),
		Kernel:        strings.TrimSpace(readText("/proc/sys/kernel/osrelease")),
		DPDK:          orQ(output("pkg-config", "--modversion", "libdpdk")),
		DPDKPackage:   orQ(output("dpkg-query", "-W", "-f=${Version}", "dpdk")),
		Git:           orQ(output("git", "-C", b.s.Root, "describe", "--always", "--dirty")),
		Hugepages:     b.s.Huge,
		HugepagesFree: meminfo("HugePages_Free"),
	}
	if h := match(`(?m)^Hypervisor vendor:\s*(.+)$`, lscpu); h != "" {
		m.Hypervisor = &h
	}
	if mhz, err := strconv.ParseFloat(match(`(?m)^cpu MHz\s*:\s*([\d.]+)`, cpuinfo), 64); err == nil {
		m.CPUMHz = &mhz
	}
	flags := strings.Fields(match(`(?m)^flags\s*:(.*)$`, cpuinfo))
	m.ConstantTSC = slices.Contains(flags, "constant_tsc") && slices.Contains(flags, "nonstop_tsc")
	for i := range b.s.Steers {
		s := &b.s.Steers[i]
		s.Version = orQ(firstLine(output(s.Path, "version")))
	}
	m.SteerVersion = b.s.Steers[0].Version
	if len(b.s.Steers) > 1 {
		m.Steers = b.s.Steers
	}
	return m
}

// output runs a command and returns its standard output, trimmed ("" on
// failure).
func output(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil && len(out) == 0 {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func readText(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func match(re, s string) string {
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}

func orQ(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

func meminfo(key string) *int {
	v, err := strconv.Atoi(match(`(?m)^`+regexp.QuoteMeta(key)+`:\s*(\d+)`, readText("/proc/meminfo")))
	if err != nil {
		return nil
	}
	return &v
}

// onlineCPUs counts /sys/devices/system/cpu/online ("0-1", "0,2-3").
func onlineCPUs() int {
	n := 0
	for _, r := range strings.Split(strings.TrimSpace(readText("/sys/devices/system/cpu/online")), ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 == nil && err2 == nil && b >= a {
			n += b - a + 1
		}
	}
	if n == 0 {
		return 1
	}
	return n
}

func loadavg() []string {
	f := strings.Fields(readText("/proc/loadavg"))
	if len(f) > 3 {
		f = f[:3]
	}
	return f
}

// cpuTicks are the busy and steal jiffies of all CPUs (/proc/stat).
func cpuTicks() (busy, steal uint64) {
	line, _, _ := strings.Cut(readText("/proc/stat"), "\n")
	var f [8]uint64
	for i, x := range strings.Fields(line) {
		if i == 0 || i > 8 {
			continue
		}
		f[i-1], _ = strconv.ParseUint(x, 10, 64)
	}
	user, nice, system, irq, softirq := f[0], f[1], f[2], f[5], f[6]
	return user + nice + system + irq + softirq, f[7]
}

// procTicks is the user + system jiffies of a process, every thread.
func procTicks(pid int) uint64 {
	return statTicks(readText(fmt.Sprintf("/proc/%d/stat", pid)))
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: AT_CLKTCK of the
// auxiliary vector, 100 on every Linux this runs on.
func clockTicks() float64 {
	aux, err := os.ReadFile("/proc/self/auxv")
	if err == nil {
		for i := 0; i+16 <= len(aux); i += 16 {
			key, val := binary.NativeEndian.Uint64(aux[i:]), binary.NativeEndian.Uint64(aux[i+8:])
			if key == 17 && val > 0 { // AT_CLKTCK
				return float64(val)
			}
		}
	}
	return 100
}
