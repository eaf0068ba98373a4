// The programs of kubelite/echo, installed in /bin of the image. Busybox sh scripts: they run under the
// host's busybox in unit tests too (test/unit/images/scripts.test.ts).

/** /bin/http-echo: one HTTP exchange on stdin/stdout (run per connection by nc). */
export const HTTP_ECHO = `#!/bin/sh
# One HTTP exchange on stdin/stdout; \`nc -ll -e\` runs a copy per connection. Busybox httpd cannot be the
# front: it runs CGI only below /cgi-bin/ and Debian's build has no reverse proxy, so "every path
# answers" needs this small server. Only builtins run on the common paths (no fork per request).
state=\${ECHO_STATE_DIR:-/tmp}
www=\${ECHO_WWW:-/www}
cr=$'\\r'
set -f

IFS= read -r -t 10 request || exit 0
request=\${request%"$cr"}
set -- $request
method=\${1:-GET}
target=\${2:-/}

host=
length=0
while IFS= read -r -t 10 line; do
	line=\${line%"$cr"}
	[ -n "$line" ] || break
	value=\${line#*:}
	value=\${value#"\${value%%[! 	]*}"}
	value=\${value%"\${value##*[! 	]}"}
	case \${line%%:*} in
	[Hh][Oo][Ss][Tt]) host=$value ;;
	[Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[Ll][Ee][Nn][Gg][Tt][Hh]) length=$value ;;
	esac
done

# Unread request bytes would make the kernel answer our close with a RST, and the client could lose the reply.
case $length in '' | *[!0-9]*) length=0 ;; esac
if [ \${#length} -le 8 ] && [ "$length" -gt 0 ]; then head -c "$length" >/dev/null; fi

path=\${target%%[?]*}
query=
case $target in *[?]*) query=\${target#*[?]} ;; esac

pod=\${POD_NAME:-}
if [ -z "$pod" ]; then
	IFS= read -r pod </proc/sys/kernel/hostname 2>/dev/null || pod=unknown
fi
addr=\${POD_IP:-\${ECHO_IP:-}}
if [ -z "$addr" ]; then
	set -- $(ip -4 -o addr show eth0 2>/dev/null)
	addr=\${4%%/*}
fi
[ -n "$addr" ] || addr=unknown

echo_line="pod=$pod ip=$addr path=$path host=$host"
status=200
extra=
case $path in
/healthz)
	if [ -e "$state/unhealthy" ]; then status=500 body=unhealthy; else body=ok; fi ;;
/ready)
	if [ -e "$state/unready" ]; then status=503 body=unready; else body=ok; fi ;;
/static)
	IFS= read -r body <"$www/static" || body=static ;;
/sleep)
	ms=
	q="&$query"
	case $q in *'&ms='*) ms=\${q#*&ms=}; ms=\${ms%%&*} ;; esac
	case $ms in
	'' | *[!0-9]*) status=400 body='usage: /sleep?ms=MILLISECONDS' ;;
	*)
		if [ \${#ms} -gt 7 ]; then
			status=400 body='ms must be below 10000000'
		else
			usleep $((ms * 1000))
			body=$echo_line
			extra="X-Slept-Ms: $ms$cr
"
		fi ;;
	esac ;;
*)
	body=$echo_line ;;
esac

case $status in
200) reason=OK ;;
400) reason='Bad Request' ;;
500) reason='Internal Server Error' ;;
*) reason='Service Unavailable' ;;
esac
body="$body
"
printf 'HTTP/1.1 %s %s\\r\\nContent-Type: text/plain; charset=utf-8\\r\\nContent-Length: %s\\r\\nX-Pod-Name: %s\\r\\n%sConnection: close\\r\\n\\r\\n' \\
	"$status" "$reason" "\${#body}" "$pod" "$extra"
[ "$method" = HEAD ] || printf '%s' "$body"
[ -n "\${QUIET:-}" ] || printf '%s %s %s host=%s\\n' "$method" "$target" "$status" "$host" >&2
exit 0
`;

/** /bin/echo-server: the default command (HTTP on $PORT, static httpd on $STATIC_PORT). */
export const ECHO_SERVER = `#!/bin/sh
# kubelite/echo main process. As PID 1 it gets no default signal handling, so TERM/INT are trapped and
# passed on to the servers: \`docker stop\` and Pod deletion finish at once instead of after the grace period.
port=\${PORT:-8080}
static_port=\${STATIC_PORT:-8081}

valid_port() {
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	[ \${#1} -le 5 ] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]
}
valid_port "$port" || { echo "echo-server: PORT=$port is not a port number" >&2; exit 2; }

# The Pod's address does not change while it runs: look it up once instead of once per request.
if [ -z "\${POD_IP:-}" ]; then
	set -f
	set -- $(ip -4 -o addr show eth0 2>/dev/null)
	set +f
	[ -z "\${4:-}" ] || export ECHO_IP="\${4%%/*}"
fi

nc -ll -p "$port" -e /bin/http-echo &
main=$!
pids=$main
if [ "$static_port" != 0 ] && [ "$static_port" != "$port" ]; then
	if valid_port "$static_port"; then
		httpd -f -p "$static_port" -h /www &
		pids="$pids $!"
	else
		echo "echo-server: STATIC_PORT=$static_port is not a port number, static server off" >&2
	fi
fi
trap 'kill $pids 2>/dev/null; exit 0' TERM INT
echo "echo-server: http on :$port, static on :$static_port, pod=\${POD_NAME:-$(hostname)} ip=\${POD_IP:-\${ECHO_IP:-unknown}}"
wait $main
status=$?
kill $pids 2>/dev/null
exit $status
`;

/** /bin/tcp-echo [PORT]: TCP echo. */
export const TCP_ECHO = `#!/bin/sh
# TCP echo: every connection gets back what it sends (\`nc -ll -e cat\`). TERM/INT trapped for PID 1.
port=\${1:-9001}
case $port in '' | *[!0-9]*) echo "usage: tcp-echo [PORT]" >&2; exit 2 ;; esac
nc -ll -p "$port" -e /bin/cat &
pid=$!
trap 'kill $pid 2>/dev/null; exit 0' TERM INT
echo "tcp-echo: listening on :$port"
wait $pid
`;

/** /bin/udp-echo: explains that busybox cannot serve UDP and where a UDP echo is. */
export const UDP_ECHO_UNSUPPORTED = `#!/bin/sh
# Busybox nc in this image (Debian's busybox-static 1.35) only speaks TCP: it has no -u option, and no
# other applet answers UDP. The node image has a real one.
echo "udp-echo: not available in kubelite/echo (busybox nc has no UDP mode); use image kubelite/node:20 with command [\\"udp-echo\\", \\"\${1:-9000}\\"]" >&2
exit 2
`;
