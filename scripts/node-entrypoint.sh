#!/bin/sh
# The entry point of kubelite's node image (kubelite/cluster-node), run by tini as PID 1:
#   1. makes cgroups writable for a nested engine (v1: every hierarchy the host uses mounted afresh,
#      read-write; v2: a fresh cgroup2 mount and the processes moved to a leaf so controllers can be
#      delegated), unless they already are (--privileged);
#   2. starts this container's own dockerd (/var/lib/docker must be a volume: overlay2 on overlay2 is
#      refused) and waits for it; a dockerd that exits or never answers ends the container with the last
#      lines of its log;
#   3. loads kubelite's own images (pause, echo) saved into the node image at build time;
#   4. runs the command it was given (`kubelite server ...`; later `kubelite agent ...`), and on SIGTERM
#      stops that command first and dockerd second, so both stop cleanly.
# A kubelite command starts at once, beside dockerd: its engine socket (DOCKER_HOST) only appears once
# the engine answers and has the images, and its agent waits for it (KUBELITE_DOCKER_WAIT). Any other
# command starts after that.
# Arguments are passed on as they are: no user string is ever evaluated by this shell.
#
# Environment:
#   KUBELITE_DOCKERD_TIMEOUT  seconds to wait for dockerd [60]
#   KUBELITE_DOCKERD_ARGS     extra dockerd arguments, split on blanks, never globbed or evaluated [none]
#   KUBELITE_DOCKER_TCP       serve the Docker API on tcp://0.0.0.0:PORT, no TLS (CI services) [off]
#   KUBELITE_POD_CIDR         accept forwarded traffic to this pod CIDR (routed from outside) [10.244.0.0/16]
#   KUBELITE_TOKEN            the API bearer token (>= 16 characters) instead of a generated one
#   KUBELITE_KUBECONFIG_OUT   also write a kubeconfig here once the API serves (a shared volume in CI)
#   KUBELITE_SERVER_URL       the API URL that kubeconfig names [https://<hostname>:6443]
set -eu

log() { printf '%s kubelite-node: %s\n' "$(date +%H:%M:%S.%3N)" "$*" >&2; }
dockerd_log=/var/log/dockerd.log
dockerd_pid=
child_pid=

# The job's DOCKER_HOST (CI systems hand job variables to services too) names this very container from
# outside; in here, the engine is the local socket.
unset DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_CONTEXT
export DOCKER_HOST=unix:///var/run/docker.sock

cgroup_mount_ro() {
	# Is any cgroup filesystem at or below /sys/fs/cgroup mounted read-only?
	# mountinfo: ID PARENT DEV ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
	awk '$5 ~ "^/sys/fs/cgroup(/|$)" { for (i = 7; $i != "-"; i++); if ($(i+1) ~ /^(cgroup|cgroup2|tmpfs)$/ && ("," $6 ",") ~ /,ro,/) found = 1 } END { exit found ? 0 : 1 }' /proc/self/mountinfo
}

mount_cgroup_v1() {
	if ! cgroup_mount_ro; then
		log "cgroup v1, already writable"
		return
	fi
	log "cgroup v1, read-only: mounting the hierarchies afresh"
	# Each hierarchy is mounted whole below /run/kubelite/cgroup, and this container's own cgroup of it
	# is bound read-write where Docker had bound it read-only: the view stays rooted at our cgroup (so the
	# inner engine's containers live below it) but can now be written.
	mount -t tmpfs -o mode=755,nosuid,nodev,noexec cgroup_root /sys/fs/cgroup
	mkdir -p /run/kubelite/cgroup
	mount -t tmpfs -o mode=700 cgroup_full /run/kubelite/cgroup
	# One mount per hierarchy the host uses (hierarchy id != 0), subsystems that share one mounted together.
	for group in $(awk '!/^#/ && $2 != 0 && $4 == 1 { if ($2 in h) h[$2] = h[$2] "," $1; else h[$2] = $1 } END { for (k in h) print h[k] }' /proc/cgroups); do
		bind_hierarchy "$group" "$group"
		case $group in *,*)
			for ss in $(echo "$group" | tr , ' '); do ln -sfn "$group" "/sys/fs/cgroup/$ss"; done
		esac
	done
	if grep -q ':name=systemd:' /proc/self/cgroup; then bind_hierarchy systemd none,name=systemd; fi
}

# bind_hierarchy DIR OPTIONS: the hierarchy with these mount options, seen from this container's cgroup.
bind_hierarchy() {
	mkdir -p "/run/kubelite/cgroup/$1" "/sys/fs/cgroup/$1"
	mount -t cgroup -o "$2,nosuid,nodev,noexec" cgroup "/run/kubelite/cgroup/$1"
	first=${2%%,*}
	[ "$first" = none ] && first=name=systemd
	own=$(awk -F: -v ss="$first" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == ss) { print $3; exit } }' /proc/self/cgroup)
	mount --bind "/run/kubelite/cgroup/$1${own}" "/sys/fs/cgroup/$1"
}

mount_cgroup_v2() {
	# Only inside a private cgroup namespace are we at the root of what we see; with the host's
	# namespace, moving "every process" would move the host's.
	if [ "$(cat /proc/self/cgroup)" != "0::/" ]; then
		log "cgroup v2 without a private cgroup namespace ($(cat /proc/self/cgroup)): run the container with --cgroupns=private"
		exit 1
	fi
	if cgroup_mount_ro; then
		log "cgroup v2, read-only: mounting cgroup2 afresh"
		umount /sys/fs/cgroup 2>/dev/null || true
		mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
	else
		log "cgroup v2, already writable"
	fi
	# Processes may not live in a cgroup that delegates controllers: move them all to a leaf first.
	mkdir -p /sys/fs/cgroup/init
	while read -r pid; do echo "$pid" >/sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true; done </sys/fs/cgroup/cgroup.procs
	sed -e 's/ / +/g' -e 's/^/+/' </sys/fs/cgroup/cgroup.controllers >/sys/fs/cgroup/cgroup.subtree_control
}

stop_all() {
	status=${1:-0}
	trap - TERM INT
	if [ -n "$child_pid" ] && kill -0 "$child_pid" 2>/dev/null; then
		kill -TERM "$child_pid" 2>/dev/null || true
		wait "$child_pid" 2>/dev/null || true
	fi
	if [ -n "$dockerd_pid" ] && kill -0 "$dockerd_pid" 2>/dev/null; then
		log "stopping dockerd"
		kill -TERM "$dockerd_pid" 2>/dev/null || true
		# dockerd stops its containers first; one stuck in its start-up may ignore TERM
		i=0
		while kill -0 "$dockerd_pid" 2>/dev/null && [ "$i" -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
		kill -KILL "$dockerd_pid" 2>/dev/null || true
		wait "$dockerd_pid" 2>/dev/null || true
	fi
	exit "$status"
}

dockerd_failed() {
	log "$1; the last lines of $dockerd_log:"
	tail -n 25 "$dockerd_log" >&2 || true
	if [ -n "$child_pid" ]; then kill -KILL "$child_pid" 2>/dev/null || true; fi
	if [ -n "$dockerd_pid" ]; then kill -KILL "$dockerd_pid" 2>/dev/null || true; fi
	exit 1
}

trap 'stop_all 143' TERM
trap 'stop_all 130' INT

if [ -f /sys/fs/cgroup/cgroup.controllers ]; then mount_cgroup_v2; else mount_cgroup_v1; fi

dockerd_args="--host=unix:///var/run/docker.sock"
if [ -n "${KUBELITE_DOCKER_TCP:-}" ]; then
	case $KUBELITE_DOCKER_TCP in *[!0-9]* | "")
		log "KUBELITE_DOCKER_TCP=$KUBELITE_DOCKER_TCP: expected a port number"
		exit 2
	esac
	dockerd_args="$dockerd_args --host=tcp://0.0.0.0:$KUBELITE_DOCKER_TCP --tls=false"
fi
if ! awk '$5 == "/var/lib/docker" { found = 1 } END { exit found ? 0 : 1 }' /proc/self/mountinfo; then
	log "warning: /var/lib/docker is not a volume; the inner engine falls back to a slow storage driver"
fi
timeout_s=${KUBELITE_DOCKERD_TIMEOUT:-60}
case $timeout_s in *[!0-9]* | "") log "KUBELITE_DOCKERD_TIMEOUT=$timeout_s: expected seconds"; exit 2 ;; esac

log "starting dockerd"
set -f
# shellcheck disable=SC2086 # split on blanks on purpose; globbing is off
dockerd $dockerd_args ${KUBELITE_DOCKERD_ARGS:-} >"$dockerd_log" 2>&1 &
dockerd_pid=$!
set +f

if [ $# -eq 0 ]; then set -- kubelite server --bind-address 0.0.0.0; fi
if [ -n "${KUBELITE_TOKEN:-}" ]; then
	if [ "${#KUBELITE_TOKEN}" -lt 16 ]; then dockerd_failed "KUBELITE_TOKEN is too short: at least 16 characters"; fi
	(umask 077 && mkdir -p /run/kubelite && printf '%s\n' "$KUBELITE_TOKEN" >/run/kubelite/token)
	if [ "$1" = kubelite ] && [ "${2:-}" = server ]; then set -- "$@" --token-file /run/kubelite/token; fi
fi
unset KUBELITE_TOKEN

# The socket kubelite is given: a link to the engine's, made once the engine is ready for it.
mkdir -p /run/kubelite
rm -f /run/kubelite/docker.sock
early=
if [ "$1" = kubelite ]; then
	early=1
	log "running $*"
	# it waits longer than we do, so a dockerd that never answers is reported here, with its log
	DOCKER_HOST=unix:///run/kubelite/docker.sock KUBELITE_DOCKER_WAIT=$((timeout_s + 30)) "$@" &
	child_pid=$!
fi

deadline=$(($(date +%s) + timeout_s))
# curl, not the docker CLI: a poll every 50 ms must cost next to nothing on a loaded machine
until curl -sf -m 1 --unix-socket /var/run/docker.sock http://docker/_ping >/dev/null 2>&1; do
	if ! kill -0 "$dockerd_pid" 2>/dev/null; then
		wait "$dockerd_pid" 2>/dev/null && code=0 || code=$?
		dockerd_pid=
		dockerd_failed "dockerd exited (status $code) before it answered"
	fi
	if [ -n "$child_pid" ] && ! kill -0 "$child_pid" 2>/dev/null; then
		wait "$child_pid" 2>/dev/null && code=0 || code=$?
		child_pid=
		dockerd_failed "$1 exited (status $code) while dockerd was starting"
	fi
	if [ "$(date +%s)" -ge "$deadline" ]; then dockerd_failed "dockerd did not answer within ${timeout_s}s"; fi
	sleep 0.05
done
log "dockerd answers"

# Pod traffic routed here from outside (the host's routes to the pod CIDR) is forwarded to the Pods.
pod_cidr=${KUBELITE_POD_CIDR:-10.244.0.0/16}
if ! iptables -w -C DOCKER-USER -d "$pod_cidr" -j ACCEPT 2>/dev/null && ! iptables -w -I DOCKER-USER -d "$pod_cidr" -j ACCEPT; then
	log "warning: could not accept forwarded traffic to $pod_cidr"
fi
if [ -f /usr/share/kubelite/images.tar ]; then
	docker load -q -i /usr/share/kubelite/images.tar >/dev/null || log "warning: loading kubelite's images failed (the server builds them itself)"
	log "images loaded"
fi
ln -s /var/run/docker.sock /run/kubelite/docker.sock

if [ -z "$early" ]; then
	log "running $*"
	"$@" &
	child_pid=$!
fi
wait "$child_pid" && status=0 || status=$?
child_pid=
stop_all "$status"
