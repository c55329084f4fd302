// The TCP peer address of each request, recorded by the server's fetch handler (Elysia's handle() does not see the socket).
export const peerAddress = new WeakMap<Request, string>();
