// The program of kubelite/pause, the Pod infra container.

/** /bin/pause: sleeps until TERM/INT, reaping orphans. */
export const PAUSE = `#!/bin/sh
# Pod infra container: sleeps while the Pod lives. PID 1 ignores signals it has no handler for, hence the
# trap (TERM and INT end it at once). ash's wait collects any child, so processes re-parented to PID 1
# when they are orphaned are reaped instead of staying zombies.
trap 'exit 0' TERM INT HUP
while :; do
	sleep 3600 &
	wait $!
done
`;
