#!/usr/bin/env bash
# The demo: starts `kubelite server` (a systemd unit where systemd runs the machine, otherwise a detached
# process logging to /var/log/kubelite.log), applies examples/, waits for the seed's backend, and shows
# the Services answering: ClusterIP, NodePort, LoadBalancer, ExternalName, and the Ingress.
# Run by scripts/setup.sh; safe to run again. KUBELITE_DEMO_NO_TRAFFIC=1 skips the curl part.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)

kubelite=$(command -v kubelite || echo "$repo/bin/kubelite")
data_dir=/var/lib/kubelite
export KUBECONFIG=$data_dir/kubeconfig
log=/var/log/kubelite.log

step() { printf '\n==> %s\n' "$*"; }

server_answers() { [ -f "$KUBECONFIG" ] && "$kubelite" get ns default >/dev/null 2>&1; }

step "kubelite server"
if server_answers; then
	echo "already running ($KUBECONFIG)"
elif [ "$(ps -o comm= -p 1 2>/dev/null)" = systemd ] && command -v systemctl >/dev/null 2>&1; then
	cat >/etc/systemd/system/kubelite.service <<EOF
[Unit]
Description=kubelite: Kubernetes' Service model on this Docker host
After=docker.service network-online.target
Wants=docker.service

[Service]
ExecStart=$kubelite server
Restart=on-failure
KillMode=process
TimeoutStopSec=30

[Install]
WantedBy=multi-user.target
EOF
	systemctl daemon-reload
	systemctl enable --now kubelite.service
	echo "started as the systemd unit kubelite.service (journalctl -u kubelite)"
else
	setsid "$kubelite" server </dev/null >>"$log" 2>&1 &
	echo "started in the background (pid $!), log in $log; stop it with: kill $!"
fi
for _ in $(seq 1 120); do
	server_answers && break
	sleep 0.5
done
server_answers || {
	echo "the server did not answer within 60 s; last lines of its log:" >&2
	tail -n 20 "$log" 2>/dev/null >&2 || journalctl -u kubelite -n 20 --no-pager >&2 || true
	exit 1
}
echo "API: $(grep -m1 'server:' "$KUBECONFIG" | awk '{print $2}')   kubeconfig: $KUBECONFIG"

step "a TLS certificate for the Ingress (a local CA, kept in $data_dir/demo-tls)"
"$kubelite" tls create --host demo.kubelite.test --out "$data_dir/demo-tls" --secret demo-tls | "$kubelite" apply -f -

step "kubelite apply -f examples/"
"$kubelite" apply -f examples/

step "waiting for the seed's backend (3 Pods)"
"$kubelite" rollout status deployment/my-backend --timeout 120s

step "what is running"
"$kubelite" get deploy,po,svc -o wide 2>/dev/null || { "$kubelite" get deploy; "$kubelite" get po -o wide; "$kubelite" get svc; }

[ "${KUBELITE_DEMO_NO_TRAFFIC:-}" = 1 ] && exit 0

vip=$("$kubelite" get svc my-backend -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).spec.clusterIP))')
node_ip=$("$kubelite" get nodes -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const n=JSON.parse(s).items[0];console.log((n.status.addresses.find(a=>a.type==="InternalIP")||{}).address)})')

step "ClusterIP: curl http://$vip/ (the kernel spreads new connections across the Pods)"
for _ in 1 2 3 4 5 6; do curl -s --max-time 2 "http://$vip/" || echo "(no answer)"; done

step "NodePort: curl http://$node_ip:30007/"
curl -s --max-time 2 "http://$node_ip:30007/" || echo "(no answer)"

step "LoadBalancer: the Service's EXTERNAL-IP on port 8080"
lb=$("$kubelite" get svc my-backend-lb -o json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const i=(JSON.parse(s).status.loadBalancer||{}).ingress||[];console.log(i[0]?i[0].ip:"")})')
if [ -n "$lb" ]; then curl -s --max-time 2 "http://$lb:8080/" || echo "(no answer)"; else echo "(no address yet)"; fi

step "DNS: my-backend, and the ExternalName alias (asked for its CNAME only)"
"$kubelite" dns lookup my-backend || true
"$kubelite" dns lookup stripe --type CNAME || true

step "Ingress: the seed's road, /api -> my-backend and / -> frontend, over TLS"
curl -s --max-time 2 --cacert "$data_dir/demo-tls/ca.crt" --resolve demo.kubelite.test:443:127.0.0.1 https://demo.kubelite.test/api/ || echo "(no answer)"
curl -s --max-time 2 --cacert "$data_dir/demo-tls/ca.crt" --resolve demo.kubelite.test:443:127.0.0.1 https://demo.kubelite.test/ || echo "(no answer)"
curl -s --max-time 2 -o /dev/null -w 'http://demo.kubelite.test/ -> %{http_code} %{redirect_url}\n' --resolve demo.kubelite.test:80:127.0.0.1 http://demo.kubelite.test/ || true

cat <<EOF

kubelite is running. Try:
  export KUBECONFIG=$KUBECONFIG
  kubectl get pods -o wide          # or: kubelite get pods -o wide
  kubectl delete pod -l app=my-backend --wait=false; kubectl get pods -w   # Pods are mortal; the Service stays
  kubelite cleanup                  # after stopping the server: remove every trace
EOF
