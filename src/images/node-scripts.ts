// Programs of kubelite/node (CommonJS, run by the image's node; `ws` is found through NODE_PATH).

/** /bin/udp-echo [PORT]: UDP echo (default 9000). */
export const UDP_ECHO = `#!/usr/bin/node
'use strict';
// UDP echo for Services over UDP: every datagram goes back to its sender unchanged.
const dgram = require('node:dgram');

const port = Number(process.argv[2] || 9000);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('usage: udp-echo [PORT]');
  process.exit(2);
}
const socket = dgram.createSocket('udp4');
socket.on('message', (msg, peer) => socket.send(msg, peer.port, peer.address));
socket.on('error', (err) => {
  console.error(\`udp-echo: \${err.message}\`);
  process.exit(1);
});
socket.bind(port, () => console.log(\`udp-echo: listening on :\${port}/udp\`));
// As PID 1, node gets no default signal handling: without these, TERM would be ignored.
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
`;

/** /bin/ws-echo [PORT]: HTTP echo line + WebSocket echo (default 8080). */
export const WS_ECHO = `#!/usr/bin/node
'use strict';
// HTTP answers like kubelite/echo (which Pod answered); WebSocket messages come back unchanged, and the
// upgrade response names the Pod in X-Pod-Name.
const http = require('node:http');
const os = require('node:os');
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || process.env.PORT || 8080);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('usage: ws-echo [PORT]');
  process.exit(2);
}
const pod = process.env.POD_NAME || os.hostname();
const ip = process.env.POD_IP || ((os.networkInterfaces().eth0 || []).find((a) => a.family === 'IPv4') || {}).address || 'unknown';

const server = http.createServer((req, res) => {
  const path = (req.url || '/').split('?')[0];
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-pod-name': pod });
  res.end(path === '/healthz' || path === '/ready' ? 'ok\\n' : \`pod=\${pod} ip=\${ip} path=\${path} host=\${req.headers.host || ''}\\n\`);
});
const wss = new WebSocketServer({ server });
wss.on('headers', (headers) => headers.push(\`X-Pod-Name: \${pod}\`));
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
server.listen(port, () => console.log(\`ws-echo: http and websocket on :\${port}, pod=\${pod} ip=\${ip}\`));
// As PID 1, node gets no default signal handling: without these, TERM would be ignored.
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
`;
