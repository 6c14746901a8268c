#!/usr/bin/env bash
# Bind PCI NICs to vfio-pci so that DPDK (steer) can drive them: bare metal.
#
#   scripts/bind-vfio.sh [--dry-run] [--force] PCI_ADDR...   bind, e.g. 0000:03:00.0 0000:03:00.1
#   scripts/bind-vfio.sh --status                           NICs, drivers, NUMA nodes, IOMMU state
#
# Before touching a device it checks that:
#   - the IOMMU is on (/sys/kernel/iommu_groups is not empty), or vfio's unsafe
#     no-IOMMU mode is enabled; otherwise it says how to turn either on;
#   - no interface of the device is up with routes: that may be the link your
#     SSH session uses. It refuses and says so; --force overrides (you have
#     console access, you know what you are doing);
#   - the other devices of the same IOMMU group are free (vfio takes whole groups).
# It uses dpdk-devbind.py (Debian package dpdk) when present, else sysfs
# driver_override. --dry-run checks and prints what it would do.
# Undo: dpdk-devbind.py -b <old driver> PCI_ADDR (the script prints the line).
set -euo pipefail

log() { printf 'bind-vfio: %s\n' "$*"; }
warn() { printf 'bind-vfio: warning: %s\n' "$*" >&2; }
die() {
	printf 'bind-vfio: error: %s\n' "$1" >&2
	shift
	for hint in "$@"; do printf '  - %s\n' "$hint" >&2; done
	exit 1
}

usage() {
	sed -n '4,5s/^# \{0,1\}//p' "$0"
	exit "${1:-0}"
}

PCI=/sys/bus/pci/devices
DEVBIND=""
for c in dpdk-devbind.py dpdk-devbind /usr/share/dpdk/usertools/dpdk-devbind.py; do
	if command -v "$c" >/dev/null 2>&1; then
		DEVBIND=$(command -v "$c")
		break
	fi
done

# normalize ADDR: "03:00.0" -> "0000:03:00.0", lower case; empty if malformed.
normalize() {
	local a=${1,,}
	[[ $a =~ ^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] && a="0000:$a"
	[[ $a =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] && echo "$a"
	return 0
}

driver_of() { # current driver name, or "" when unbound
	local l
	l=$(readlink "$PCI/$1/driver" 2>/dev/null) || return 0
	basename "$l"
}

netdevs_of() { # kernel interfaces of a device, one per line
	# An interface's "device" link points at the PCI function, or below it
	# (virtio-net: 0000:00:03.0/virtio0), so compare resolved paths.
	local dev n nd
	dev=$(readlink -f "$PCI/$1")
	for n in /sys/class/net/*; do
		nd=$(readlink -f "$n/device" 2>/dev/null) || continue
		[[ $nd == "$dev" || $nd == "$dev"/* ]] && basename "$n"
	done
	return 0
}

is_up() { # administratively up: IFF_UP (0x1) in /sys/class/net/IF/flags
	local f
	f=$(cat "/sys/class/net/$1/flags" 2>/dev/null) || return 1
	(((f & 0x1) != 0))
}

routes_of() { # routes through IF in every table; IPv6 link-local/multicast ones don't count
	{
		ip -4 route show table all dev "$1" 2>/dev/null || true
		ip -6 route show table all dev "$1" 2>/dev/null | grep -vE '(^| )(fe80:|ff00::)' || true
	} | sed '/^$/d'
}

iommu_on() { [[ -d /sys/kernel/iommu_groups && -n $(ls -A /sys/kernel/iommu_groups 2>/dev/null) ]]; }

noiommu_on() {
	local p=/sys/module/vfio/parameters/enable_unsafe_noiommu_mode
	[[ -r $p && $(cat "$p") == [Yy1]* ]]
}

iommu_state() {
	if iommu_on; then
		echo "IOMMU on ($(find /sys/kernel/iommu_groups -mindepth 1 -maxdepth 1 | wc -l) groups)"
	elif noiommu_on; then
		echo "IOMMU off, vfio unsafe no-IOMMU mode on (no DMA isolation)"
	else
		echo "IOMMU off, vfio no-IOMMU mode off: vfio-pci cannot be used"
	fi
}

status() {
	printf '%-14s %-10s %-12s %-6s %-5s %-5s %s\n' PCI DRIVER INTERFACE STATE NUMA IOMMU DEVICE
	local d a cls drv ifs i state numa grp name
	for d in "$PCI"/*; do
		a=$(basename "$d")
		cls=$(cat "$d/class")
		drv=$(driver_of "$a")
		# network controllers (class 0x02xxxx) and anything already on vfio-pci
		[[ $cls == 0x02* || $drv == vfio-pci ]] || continue
		ifs=$(netdevs_of "$a" | paste -sd, -)
		state=-
		if [[ -n $ifs ]]; then
			state=down
			for i in ${ifs//,/ }; do is_up "$i" && state=up; done
		fi
		numa=$(cat "$d/numa_node" 2>/dev/null || echo -)
		grp=-
		[[ -e $d/iommu_group ]] && grp=$(basename "$(readlink "$d/iommu_group")")
		name=$(cat "$d/vendor"):$(cat "$d/device")
		printf '%-14s %-10s %-12s %-6s %-5s %-5s %s\n' "$a" "${drv:--}" "${ifs:--}" "$state" "$numa" "$grp" "${name//0x/}"
	done
	echo
	log "$(iommu_state)"
	if [[ -n $DEVBIND ]]; then
		log "full listing: $DEVBIND --status"
	fi
}

# --- arguments ----------------------------------------------------------------------

DRY=0 FORCE=0 ADDRS=()
while (($#)); do
	case $1 in
	-h | --help) usage 0 ;;
	--status)
		status
		exit 0
		;;
	--dry-run) DRY=1 ;;
	--force) FORCE=1 ;;
	-*) usage 2 ;;
	*)
		a=$(normalize "$1")
		[[ -n $a ]] || die "'$1' is not a PCI address (want DDDD:BB:DD.F, e.g. 0000:03:00.0; see --status)"
		ADDRS+=("$a")
		;;
	esac
	shift
done
((${#ADDRS[@]} > 0)) || usage 2

if ((!DRY)) && [[ $(id -u) -ne 0 ]]; then
	die "binding drivers needs root" "run as root: sudo $0 ${ADDRS[*]}"
fi

# --- checks, for every device before changing any ---------------------------------------

refuse=0
declare -A OLD
for a in "${ADDRS[@]}"; do
	d=$PCI/$a
	[[ -e $d ]] || die "no PCI device $a (see: $0 --status)"
	OLD[$a]=$(driver_of "$a")
	cls=$(cat "$d/class")
	if [[ $cls != 0x02* ]]; then
		if ((FORCE)); then
			warn "$a is not a network controller (class $cls); --force given, going on"
		else
			die "$a is not a network controller (class $cls); pass --force if you really mean it"
		fi
	fi
	while read -r ifc; do
		[[ -n $ifc ]] || continue
		r=$(routes_of "$ifc")
		if is_up "$ifc" && [[ -n $r ]]; then
			if ((FORCE)); then
				warn "$a is $ifc, up with routes; --force given, going on"
			else
				printf 'bind-vfio: refusing: %s is interface %s, which is up and has routes:\n' "$a" "$ifc" >&2
				while IFS= read -r l; do printf '    %s\n' "$l"; done <<<"$r" >&2
				printf '  unbinding it would cut everything using those routes (your SSH session?).\n' >&2
				printf '  Move them off it and take it down first (ip link set %s down), or pass --force.\n' "$ifc" >&2
				refuse=1
			fi
		elif is_up "$ifc"; then
			log "$a is $ifc: up but without routes, it will disappear from the kernel"
		fi
	done < <(netdevs_of "$a")
	# vfio hands out whole IOMMU groups: every other member must be unbound,
	# on vfio-pci, or a PCI bridge (pcieport).
	if [[ -e $d/iommu_group ]]; then
		for m in "$d"/iommu_group/devices/*; do
			mb=$(basename "$m")
			[[ $mb == "$a" ]] && continue
			md=$(driver_of "$mb")
			case $md in
			"" | vfio-pci | pcieport) ;;
			*)
				if [[ " ${ADDRS[*]} " != *" $mb "* ]]; then
					warn "$mb (driver $md) shares IOMMU group $(basename "$(readlink "$d/iommu_group")") with $a: DPDK will fail to open the group until it is on vfio-pci too (add it to the command line) or unbound"
				fi
				;;
			esac
		done
	fi
done
((refuse == 0)) || exit 1

if ! iommu_on; then
	if noiommu_on; then
		warn "no IOMMU: using vfio's unsafe no-IOMMU mode (the device can DMA anywhere in memory; fine for a lab VM, not for production)"
	else
		die "no IOMMU: /sys/kernel/iommu_groups is empty, so vfio-pci cannot take the device" \
			"bare metal: enable VT-d (Intel) or AMD-Vi/IOMMU (AMD) in the firmware, add 'intel_iommu=on iommu=pt' (AMD: 'amd_iommu=on iommu=pt') to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub and reboot" \
			"a VM without a virtual IOMMU: enable vfio's unsafe no-IOMMU mode (no DMA isolation): modprobe vfio enable_unsafe_noiommu_mode=1, or echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode, or boot with vfio.enable_unsafe_noiommu_mode=1" \
			"no vfio at all: test with virtual devices instead (dpdk-config/dev-tap.yaml, demo.yaml)"
	fi
fi

# --- bind --------------------------------------------------------------------------------

if ((DRY)); then
	for a in "${ADDRS[@]}"; do
		if [[ ${OLD[$a]} == vfio-pci ]]; then
			log "dry run: $a is already on vfio-pci"
		elif [[ -n $DEVBIND ]]; then
			log "dry run: would run: $DEVBIND -b vfio-pci$( ((FORCE)) && echo " --force") $a   (now: ${OLD[$a]:-no driver})"
		else
			log "dry run: would set $PCI/$a/driver_override to vfio-pci and reprobe (now: ${OLD[$a]:-no driver})"
		fi
	done
	exit 0
fi

if [[ ! -d /sys/bus/pci/drivers/vfio-pci ]]; then
	if command -v modprobe >/dev/null 2>&1; then
		modprobe vfio-pci || die "modprobe vfio-pci failed" "is the kernel built with VFIO_PCI (CONFIG_VFIO_PCI)? check: grep VFIO /boot/config-\$(uname -r)"
	fi
	[[ -d /sys/bus/pci/drivers/vfio-pci ]] || die "the vfio-pci driver is not loaded and cannot be loaded here"
fi

for a in "${ADDRS[@]}"; do
	if [[ ${OLD[$a]} == vfio-pci ]]; then
		log "$a is already on vfio-pci"
		continue
	fi
	if [[ -n $DEVBIND ]]; then
		args=(-b vfio-pci)
		((FORCE)) && args+=(--force)
		"$DEVBIND" "${args[@]}" "$a" || die "$DEVBIND ${args[*]} $a failed"
	else
		echo vfio-pci >"$PCI/$a/driver_override"
		if [[ -n ${OLD[$a]} ]]; then
			echo "$a" >"$PCI/$a/driver/unbind"
		fi
		echo "$a" >/sys/bus/pci/drivers_probe
	fi
	now=$(driver_of "$a")
	[[ $now == vfio-pci ]] || die "$a is on '${now:-no driver}' after binding, not vfio-pci (see dmesg)"
	grp=""
	[[ -e $PCI/$a/iommu_group ]] && grp=$(basename "$(readlink "$PCI/$a/iommu_group")")
	log "$a bound to vfio-pci (was ${OLD[$a]:-no driver})${grp:+, /dev/vfio/$grp}; NUMA node $(cat "$PCI/$a/numa_node" 2>/dev/null || echo ?)"
	if [[ -n ${OLD[$a]} && -n $DEVBIND ]]; then
		log "  undo: $DEVBIND -b ${OLD[$a]} $a"
	elif [[ -n ${OLD[$a]} ]]; then
		log "  undo: echo > $PCI/$a/driver_override; echo $a > /sys/bus/pci/drivers/vfio-pci/unbind; echo $a > /sys/bus/pci/drivers_probe"
	fi
done
log "DPDK locks its memory for DMA: as non-root raise 'ulimit -l'; in a container add IPC_LOCK and the /dev/vfio devices"
