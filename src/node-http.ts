/**
 * node:http's createServer, taken from the module itself rather than by an ES `import`: Node's
 * ES facade of node:http reads every export, and the WebSocket, CloseEvent and MessageEvent
 * getters among them load Node's own copy of undici (~2 MB of heap, ~10 MB of RSS in an idle
 * sidecar) for nothing we use.
 */
export const { createServer } = process.getBuiltinModule('node:http');
