// Builds the chat page into dist/, which the gateway serves at `/`, and the admin console into
// dist/admin.html, served at `/admin`. `npm run dev -w @chat-fleet/web` serves both with hot reload
// (the console at /admin.html) and forwards the API and sockets to the gateway of `npm start` (:8088).
import { compileMessage } from '@lingui/message-utils/compileMessage';
import { defineConfig, type Plugin } from 'vite';

const gateway = '127.0.0.1:8088';

/**
 * The message catalogs (src/locales/*.json, ICU MessageFormat) compiled at build, as Lingui's own CLI
 * does: the page ships Lingui's small runtime and no message parser.
 */
function compiledCatalogs(): Plugin {
  return {
    name: 'compiled-catalogs',
    enforce: 'pre',
    transform(code, id) {
      if (!/\/src\/locales\/[\w-]+\.json$/.test(id)) return null;
      const messages = JSON.parse(code) as Record<string, string>;
      const compiled = Object.fromEntries(Object.entries(messages).map(([key, message]) => [key, compileMessage(message)]));
      return { code: `export default ${JSON.stringify(compiled)};`, moduleType: 'js' };
    },
  };
}

export default defineConfig({
  plugins: [compiledCatalogs()],
  // Preact's automatic JSX runtime through Vite's own transformer (oxc); no framework plugin needed.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  // The SDK's useChat imports `react`: Preact's compat layer serves it.
  resolve: { alias: { react: 'preact/compat' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Two pages, each with its own chunk: the console's code never loads with the chat.
    rolldownOptions: { input: { index: 'index.html', admin: 'admin.html' } },
  },
  server: {
    proxy: {
      '/chat': `http://${gateway}`,
      '/health': `http://${gateway}`,
      // The admin REST routes only: /admin.html itself is the dev server's.
      '^/admin/': `http://${gateway}`,
      '/ws': { target: `ws://${gateway}`, ws: true },
    },
  },
});
