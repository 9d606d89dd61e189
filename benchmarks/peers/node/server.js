// The Node.js peer: a broadcast server on the `ws` package, the "broadcast to all other
// clients" loop from its README.
//
// Same protocol subset as picows_broadcast.py: every upgrade accepted, every request answered
// with a minimal envelope carrying its operationID, a SendMessage frame forwarded unchanged
// to every other connected client. ws's defaults otherwise (no permessage-deflate).
//
//     node benchmarks/peers/node/server.js --port 9003
'use strict';

const { WebSocketServer, WebSocket } = require('ws');

const portFlag = process.argv.indexOf('--port');
const port = Number(process.argv[portFlag + 1]);
if (portFlag < 0 || !Number.isInteger(port)) {
  console.error('usage: node server.js --port PORT');
  process.exit(2);
}

const wss = new WebSocketServer({ host: '127.0.0.1', port, backlog: 4096 });

wss.on('connection', (ws) => {
  ws.on('error', console.error);
  ws.on('message', (data, isBinary) => {
    let request;
    try {
      request = JSON.parse(data);
    } catch {
      return;
    }
    ws.send(JSON.stringify({
      event: request.reqFuncName, errCode: 0, errMsg: '', data: '',
      operationID: request.operationID || '',
    }));
    if (request.reqFuncName === 'SendMessage') {
      wss.clients.forEach((client) => {
        if (client !== ws && client.readyState === WebSocket.OPEN) {
          client.send(data, { binary: isBinary });
        }
      });
    }
  });
});

process.on('SIGTERM', () => wss.close(() => process.exit(0)));
