#!/usr/bin/env bash
# Makes a Docker engine answer `docker info`: installs Debian's docker.io when dockerd is missing, then
# starts it (systemd when it runs the machine, otherwise dockerd detached with its output in a log file)
# and waits for it. Quiet on success, idempotent, one clear line on failure.
#
# Environment (defaults in brackets; the overrides exist so the start path can be tested beside a
# running engine):
#   KUBELITE_DOCKER_WAIT     seconds to wait for the engine [60]
#   KUBELITE_DOCKERD_LOG     dockerd's log when started here [/var/log/kubelite-dockerd.log]
#   KUBELITE_DOCKERD_PIDFILE pid file that says a dockerd is already starting [/var/run/docker.pid]
#   KUBELITE_DOCKERD_ARGS    extra dockerd arguments, split on spaces [none]
#   DOCKER_HOST              read by `docker` itself, as usual
set -euo pipefail

wait_s=${KUBELITE_DOCKER_WAIT:-60}
log=${KUBELITE_DOCKERD_LOG:-/var/log/kubelite-dockerd.log}
pidfile=${KUBELITE_DOCKERD_PIDFILE:-/var/run/docker.pid}
read -r -a extra_args <<<"${KUBELITE_DOCKERD_ARGS:-}"

say() { printf 'ensure-docker: %s\n' "$*" >&2; }

docker_answers() {
	command -v docker >/dev/null 2>&1 && timeout 15 docker info >/dev/null 2>&1
}

docker_answers && exit 0

if [ "$(id -u)" -ne 0 ]; then
	say "Docker does not answer and starting it needs root: run this as root (or with sudo: sudo $0)"
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_updated=
apt_install() {
	if [ -z "$apt_updated" ]; then
		apt-get update -qq >/dev/null
		apt_updated=1
	fi
	apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
	apt_install docker.io iptables conntrack
fi

systemd_runs() {
	[ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && command -v systemctl >/dev/null 2>&1
}

dockerd_alive() {
	[ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

how=
if systemd_runs && [ ${#extra_args[@]} -eq 0 ]; then
	how="systemctl start docker (see: journalctl -u docker)"
	systemctl start docker >/dev/null 2>&1 || true
elif dockerd_alive; then
	how="an already running dockerd (pid $(cat "$pidfile"))"
else
	how="dockerd started in the background (log: $log)"
	mkdir -p "$(dirname "$log")"
	# Its own session, no terminal, every descriptor away from ours: a caller that reads our output
	# (CI, a pipe) would otherwise wait for dockerd to exit, which it never does.
	setsid dockerd "${extra_args[@]}" </dev/null >>"$log" 2>&1 &
fi

for _ in $(seq 1 "$wait_s"); do
	docker_answers && exit 0
	sleep 1
done

if systemd_runs && [ ${#extra_args[@]} -eq 0 ]; then
	tail_text=$(journalctl -u docker -n 15 --no-pager 2>/dev/null || true)
else
	tail_text=$(tail -n 15 "$log" 2>/dev/null || true)
fi
say "Docker did not answer within ${wait_s}s after ${how}; last log lines:"
printf '%s\n' "$tail_text" | sed 's/^/  | /' >&2
exit 1
