package router

import (
	"strconv"
	"strings"

	"github.com/steer-router/steer/pkg/config"
)

// EALArgs turns the config into rte_eal_init's argv (argv[0] included).
func EALArgs(c *config.Config) []string {
	args := []string{"steer"}
	if strings.ContainsAny(c.EAL.Lcores, "@()") {
		args = append(args, "--lcores", c.EAL.Lcores)
	} else {
		args = append(args, "-l", c.EAL.Lcores)
	}
	args = append(args, "--main-lcore", strconv.Itoa(c.EAL.MainLcore), "--file-prefix", c.EAL.FilePrefix)
	if c.EAL.Huge {
		// --huge-unlink: without it every run, even a clean one, leaves
		// /dev/hugepages/<prefix>map_* files holding memory_mb of pages.
		args = append(args, "--huge-unlink", "-m", strconv.Itoa(c.EAL.MemoryMB))
	} else {
		args = append(args, "--no-huge", "-m", strconv.Itoa(c.EAL.MemoryMB))
	}
	pci := false
	for _, p := range c.Ports {
		if p.IsPCI() {
			args = append(args, "-a", p.Device)
			pci = true
		} else {
			args = append(args, "--vdev", p.Device)
		}
	}
	if !pci {
		args = append(args, "--no-pci") // don't probe (or grab) NICs nobody asked for
	}
	// EAL's own chatter at start-up is noise unless debugging.
	if c.Log.Level != "debug" {
		args = append(args, "--log-level", "*:warning")
	}
	return append(args, c.EAL.Args...)
}
