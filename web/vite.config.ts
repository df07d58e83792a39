import { defineConfig } from "vitest/config";
import preact from "@preact/preset-vite";

// The dev server forwards the API to a running `muse serve` (MUSE_PORT, default 8080), so the
// app and the API share one origin as they do when muse serves web/dist itself.
const target = `http://127.0.0.1:${process.env.MUSE_PORT ?? "8080"}`;

export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    sourcemap: false,
    // The server's CSP is script-src 'self': no inline module-preload polyfill.
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: {
      "/v1": { target, changeOrigin: false },
      "/health": { target, changeOrigin: false },
    },
  },
  preview: {
    proxy: {
      "/v1": { target, changeOrigin: false },
      "/health": { target, changeOrigin: false },
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
  },
});
