/**
 * The ceiling of the end-to-end benchmark: a Node server that receives the same POSTs and
 * discards them. Nothing can be faster on this machine. Prints its port.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => res.writeHead(200).end());
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
