// Inside a meter-only container (no network but loopback): 127.0.0.1:<port> → the meter's Unix socket, mounted in from
// the host. The agent's URLs name the engine's port, so they work unchanged; nothing else is reachable. Plain Node, no
// dependencies: it runs on the Node the container has. Usage: node forwarder.mjs <port> <socket>
import { writeFileSync } from 'node:fs';
import net from 'node:net';

const [port, socket] = process.argv.slice(2);
const server = net.createServer((client) => {
  const meter = net.connect(socket);
  client.pipe(meter).pipe(client);
  client.on('error', () => meter.destroy());
  meter.on('error', () => client.destroy());
});
server.listen(Number(port), '127.0.0.1', () => writeFileSync('/tmp/.flotilla-meter-ready', ''));
