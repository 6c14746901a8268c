package router

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/steer-router/steer/cgo/dpdk/eal"
	"github.com/steer-router/steer/pkg/config"
)

// InitEAL starts DPDK's EAL for cfg, once per process: lcores, main lcore,
// memory, file prefix, the PCI devices of the ports (virtual devices are
// created by each router: Start), and keeps every Go thread off the
// forwarding CPUs. Release it with eal.Cleanup once every router stopped.
func InitEAL(cfg *config.Config, log *zap.Logger) error {
	if cfg.EAL.Huge {
		if err := checkHugepages(); err != nil {
			return err
		}
	}
	args := EALArgs(cfg)
	log.Debug("rte_eal_init", zap.Strings("args", args))
	if err := eal.Init(args); err != nil {
		return fmt.Errorf("%w (EAL arguments: %s)", err, strings.Join(args[1:], " "))
	}
	if n, err := eal.ConfineOtherThreads(); err != nil {
		log.Warn("could not keep control threads off the forwarding CPUs", zap.Error(err))
	} else {
		log.Debug("control threads confined to the main lcore's CPUs", zap.Int("threads", n))
	}
	return nil
}

func checkHugepages() error {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return nil // let EAL say what is wrong
	}
	for _, line := range strings.Split(string(b), "\n") {
		var free int
		if _, err := fmt.Sscanf(line, "HugePages_Free: %d", &free); err == nil && free == 0 {
			return errors.New("eal.huge is true but the system has no free hugepages: run `scripts/hugepages.sh` as root, or set eal.huge: false (with eal.memory_mb) for testing")
		}
	}
	return nil
}

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
