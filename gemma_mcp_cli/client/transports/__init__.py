"""Transports: stdio with the early start it adopts, Streamable HTTP, SSE, WebSocket; under client."""
