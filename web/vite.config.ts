import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// In development, `npm run dev` serves the app and forwards the API and the websockets to a
// `hubring serve` on :8080, so cookies stay same-origin as in production.
const server = process.env.HUBRING_DEV_SERVER ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: {
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 2048,
  },
  server: {
    proxy: {
      "/api": server,
      "/ws": { target: server.replace(/^http/, "ws"), ws: true },
    },
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
