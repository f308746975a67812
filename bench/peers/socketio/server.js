// Socket.IO 4.8 relay, the livehelp-bench peer (shared/bench-peers/README.md): WebSocket
// transport only, no per-message deflate, no client bundle. Each socket joins the room
// named by its `id` query parameter; a "msg" event {to, ...} is emitted to room `to`.
// Usage: node server.js PORT   (prints "listening PORT" once ready)
const { Server } = require("socket.io");
const port = Number(process.argv[2] || 0);
const io = new Server({
  transports: ["websocket"],
  perMessageDeflate: false,
  serveClient: false,
  maxHttpBufferSize: 1e6,
});
io.on("connection", (socket) => {
  socket.join(String(socket.handshake.query.id));
  socket.on("msg", (frame) => {
    io.to(String(frame.to)).emit("msg", frame);
  });
});
const httpServer = require("http").createServer();
io.attach(httpServer);
httpServer.listen(port, "127.0.0.1", () => {
  console.log(`listening ${httpServer.address().port}`);
});
process.on("SIGTERM", () => process.exit(0));
