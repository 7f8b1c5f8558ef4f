// An ordinary WebSocket client that no one here wrote (the npm `ws` package, Debian
// node-ws) opening a connection through the nginx "CDN" with domain fronting.
// usage: node ws_client.js URL HOST_HEADER SNI
// Prints one line: "open" (the upgrade completed), "http STATUS" (the server answered
// with a page instead), "error MESSAGE" or "timeout".
'use strict';
const WebSocket = require('ws');

const [url, host, servername] = process.argv.slice(2);
const socket = new WebSocket(url, {
  headers: { Host: host },
  servername,
  rejectUnauthorized: false,  // the test's self-signed certificate
  handshakeTimeout: 5000,
});
const done = (line) => {
  console.log(line);
  process.exit(0);
};
socket.on('open', () => {
  socket.terminate();
  done('open');
});
socket.on('unexpected-response', (request, response) => done('http ' + response.statusCode));
socket.on('error', (error) => done('error ' + error.message));
setTimeout(() => done('timeout'), 10000);
