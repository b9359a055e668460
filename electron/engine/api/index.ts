// The engine's API: the HTTP + WebSocket server on loopback (API, hooks and the model proxy on one port) and the
// handler table that answers every command of the contract. The public face of the api folder.
export { ApiServer, type ApiRoutes, type ApiServerOptions } from './server.ts';
export { createHandlers, dispatch, type EngineParts, type Handlers, type StreamContext } from './handlers.ts';
