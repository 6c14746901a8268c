#!/usr/bin/env bash
# Hugepages for DPDK: reserve 2 MiB pages, mount hugetlbfs, clean up after
# processes that died.
#
#   scripts/hugepages.sh [PAGES]          reserve at least PAGES x 2 MiB (default 512 = 1 GiB)
#                                         and mount hugetlbfs on /dev/hugepages if needed
#   scripts/hugepages.sh --status         report, change nothing
#   scripts/hugepages.sh --clean PREFIX   remove /dev/hugepages/<PREFIX>map_* files that no
#                                         process holds (left by a DPDK process killed with
#                                         SIGKILL or crashed; PREFIX is eal.file_prefix)
#
# Idempotent: it never lowers the reservation and never mounts a second
# hugetlbfs on the same path (stacked mounts hide the pages of the lower one).
# HUGEPAGES_DIR overrides the mount point (default /dev/hugepages).
#
# In a container: /proc/sys and /sys are read-only and mount(2) needs
# CAP_SYS_ADMIN, so reserve on the host and give the container the host's
# /dev/hugepages as a volume (see docker/README.md); this script then only
# checks. Or do without: huge: false (STEER_EAL_HUGE=false).
set -euo pipefail

DIR=${HUGEPAGES_DIR:-/dev/hugepages}
SIZE_KB=2048
SYSFS=/sys/kernel/mm/hugepages/hugepages-${SIZE_KB}kB

log() { printf 'hugepages: %s\n' "$*"; }
warn() { printf 'hugepages: warning: %s\n' "$*" >&2; }
die() {
	printf 'hugepages: error: %s\n' "$1" >&2
	shift
	for hint in "$@"; do printf '  - %s\n' "$hint" >&2; done
	exit 1
}

usage() {
	sed -n '5,10s/^# \{0,1\}//p' "$0"
	exit "${1:-0}"
}

is_root() { [[ $(id -u) -eq 0 ]]; }

nr_pages() { cat "$SYSFS/nr_hugepages"; }
free_pages() { cat "$SYSFS/free_hugepages"; }

# hugetlbfs mounts on $DIR, one "fstype super-options" line each, from
# mountinfo ("... mountpoint opts [optional...] - fstype source superopts").
mounts_on_dir() {
	awk -v dir="$DIR" '
		{ mp = $5; gsub(/\\040/, " ", mp) }
		mp == dir {
			for (i = 6; i <= NF; i++) if ($i == "-") break
			print $(i + 1), $(i + 3)
		}' /proc/self/mountinfo
}

status() {
	local total free mnt
	total=$(nr_pages)
	free=$(free_pages)
	mnt=$(mounts_on_dir | awk '$1 == "hugetlbfs"' | wc -l)
	log "$total x 2 MiB pages reserved, $free free ($((free * SIZE_KB / 1024)) MiB)"
	if ((mnt == 0)); then
		log "no hugetlbfs mounted on $DIR"
	else
		log "hugetlbfs mounted on $DIR ($(mounts_on_dir | awk '$1 == "hugetlbfs" { print $2; exit }'))"
	fi
	local g1=/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages
	if [[ -r $g1 ]] && (($(cat "$g1") > 0)); then
		log "also $(cat "$g1") x 1 GiB pages reserved"
	fi
}

# --- reserve ---------------------------------------------------------------------

reserve() {
	local want=$1 cur got
	cur=$(nr_pages)
	if ((cur >= want)); then
		log "$cur x 2 MiB pages already reserved (>= $want)"
		return
	fi
	local hint_ro="in a container: reserve on the host (scripts/hugepages.sh $want) and pass its /dev/hugepages as a volume"
	local hint_nohuge="or run without hugepages: eal.huge: false in the config, or STEER_EAL_HUGE=false"
	if ! is_root; then
		die "only $cur of $want hugepages reserved and raising it needs root" \
			"run as root: sudo $0 $want" "$hint_nohuge"
	fi
	if ! { echo "$want" >"$SYSFS/nr_hugepages"; } 2>/dev/null; then
		die "cannot write $SYSFS/nr_hugepages (read-only /sys: a container without privileges?)" \
			"$hint_ro" "$hint_nohuge"
	fi
	got=$(nr_pages)
	if ((got < want)); then
		# Fragmented memory: compact and try once more.
		{ echo 1 >/proc/sys/vm/compact_memory; } 2>/dev/null || true
		{ echo "$want" >"$SYSFS/nr_hugepages"; } 2>/dev/null || true
		got=$(nr_pages)
	fi
	if ((got < want)); then
		die "asked the kernel for $want x 2 MiB pages, got $got (memory too small or fragmented; $(awk '/^MemAvailable/ { print $2 / 1024 " MiB" }' /proc/meminfo) available)" \
			"ask for fewer: $0 $got" \
			"or reserve at boot: add hugepages=$want to the kernel command line" \
			"$hint_nohuge"
	fi
	log "reserved $got x 2 MiB pages (was $cur)"
}

# --- mount -----------------------------------------------------------------------

mount_fs() {
	local lines n_huge n_all
	lines=$(mounts_on_dir)
	n_all=$(grep -c . <<<"$lines" || true)
	n_huge=$(grep -c '^hugetlbfs ' <<<"$lines" || true)
	if ((n_huge > 1)); then
		warn "$n_huge hugetlbfs mounts are stacked on $DIR: only the top one is visible and files in the others hold pages nobody can see. Fix: umount $DIR (repeat until one is left)."
	fi
	if ((n_huge >= 1)); then
		if ! grep -q '^hugetlbfs .*pagesize=2M' <<<"$lines"; then
			warn "the hugetlbfs on $DIR is not a 2 MiB one ($(head -n1 <<<"$lines")): DPDK will use that mount's page size"
		fi
		log "hugetlbfs already mounted on $DIR"
		return
	fi
	if ((n_all > 0)); then
		die "$DIR is a mount point of another file system ($(head -n1 <<<"$lines")), not hugetlbfs" \
			"unmount it, or set HUGEPAGES_DIR to another directory (and pass --huge-dir to DPDK via eal.args)"
	fi
	if ! is_root; then
		die "no hugetlbfs on $DIR and mounting needs root" "run as root: sudo $0"
	fi
	mkdir -p "$DIR"
	if ! mount -t hugetlbfs -o pagesize=2M nodev "$DIR" 2>/dev/null; then
		die "mount -t hugetlbfs nodev $DIR failed (no CAP_SYS_ADMIN: a container without privileges?)" \
			"in a container: mount the host's hugetlbfs as a volume (-v /dev/hugepages:/dev/hugepages)" \
			"or run without hugepages: eal.huge: false, or STEER_EAL_HUGE=false"
	fi
	log "mounted hugetlbfs (pagesize=2M) on $DIR"
}

# --- clean -----------------------------------------------------------------------

# "basename pid" for every <prefix>map_* file that a process maps or holds
# open. Matching on the basename errs on the safe side: a process in another
# mount namespace (a container) with the same prefix keeps its files. Run on
# the host to see every process: a PID namespace hides the others.
held_files() {
	local prefix=$1 pid
	for pid in /proc/[0-9]*; do
		{
			# maps: "addr perms offset dev inode path [(deleted)]"
			awk '$6 != "" { print $6 }' "$pid/maps" 2>/dev/null || true
			# open file descriptors (EAL keeps one per segment for its locks)
			find "$pid/fd" -maxdepth 1 -type l -lname "*${prefix}map_*" -printf '%l\n' 2>/dev/null || true
		} | awk -v p="${prefix}map_" -v pid="${pid#/proc/}" '
			{ n = split($0, a, "/"); b = a[n] }
			index(b, p) == 1 { print b, pid }'
	done | sort -u
}

clean() {
	local prefix=$1
	[[ -n $prefix && $prefix != */* ]] || die "--clean needs a file prefix (eal.file_prefix, e.g. steer), without '/'"
	is_root || die "--clean must read every process's /proc/PID/maps: run as root (sudo $0 --clean $prefix)"
	[[ -d $DIR ]] || {
		log "no $DIR: nothing to clean"
		return
	}
	shopt -s nullglob
	local files=("$DIR/${prefix}map_"*)
	shopt -u nullglob
	if ((${#files[@]} == 0)); then
		log "no $DIR/${prefix}map_* files: nothing to clean"
		return
	fi
	local held removed=0 kept=0 f pids=""
	held=$(held_files "$prefix")
	for f in "${files[@]}"; do
		if grep -q "^$(basename "$f") " <<<"$held"; then
			kept=$((kept + 1))
			continue
		fi
		rm -f -- "$f"
		removed=$((removed + 1))
	done
	log "removed $removed leftover ${prefix}map_* file(s), kept $kept in use; $(free_pages) x 2 MiB pages free"
	if ((kept > 0)); then
		local pid
		while read -r pid; do
			pids+=" $pid($(cat "/proc/$pid/comm" 2>/dev/null || echo gone))"
		done < <(awk '{ print $2 }' <<<"$held" | sort -un)
		log "in use by pid${pids}: a running DPDK process with file prefix '$prefix'; stop it first (or give the new one another eal.file_prefix)"
	fi
}

# --- main ------------------------------------------------------------------------

[[ -d $SYSFS ]] || die "this kernel has no 2 MiB hugepages ($SYSFS missing)" \
	"run without hugepages: eal.huge: false, or STEER_EAL_HUGE=false"

case ${1:-} in
-h | --help) usage 0 ;;
--status)
	status
	;;
--clean)
	(($# == 2)) || usage 2
	clean "$2"
	;;
-*) usage 2 ;;
*)
	pages=${1:-512}
	[[ $pages =~ ^[0-9]+$ ]] || die "PAGES must be a number of 2 MiB pages, got '$pages'"
	(($# <= 1)) || usage 2
	reserve "$pages"
	mount_fs
	status
	;;
esac
