/* The service worker of every installable page (the phone app /app, the agency portal /agency), served as
 * {page}/sw.js with the placeholders filled in by the server (webapp/pwa.py).
 *
 * The page's shell is cached at install, so it starts with no network. The page itself is network-first
 * (a release shows at once when online), the shell files are cache-first (their cache name changes with
 * every release). The API and the websockets are never cached or touched here (the phone app's own outbox
 * handles offline reports).
 */
'use strict';

const CACHE = '{{CACHE_NAME}}';
const SHELL = {{SHELL_JSON}};
const PAGE = {{PAGE_PATH}};
// "{prefix}-{digest}" → "{prefix}-": this page's caches; another page's on the same origin are not ours to clear
const PREFIX = CACHE.slice(0, CACHE.lastIndexOf('-') + 1);
const SHELL_SET = new Set(SHELL.map((u) => new URL(u, self.location.origin).href));

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // cache: 'reload' skips the HTTP cache, so the new shell is really the new one.
    await cache.addAll(SHELL.map((u) => new Request(u, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function pageFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(PAGE, response.clone());
    return response;
  } catch (err) {
    const cached = await cache.match(PAGE);
    if (cached) return cached;
    throw err;
  }
}

async function shellFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;  // map tiles: the browser's own cache
  if (request.mode === 'navigate' && (url.pathname === PAGE || url.pathname === PAGE + '/')) {
    event.respondWith(pageFirst(request));
  } else if (SHELL_SET.has(url.origin + url.pathname)) {
    event.respondWith(shellFirst(request));
  }
  // everything else (the API, websockets, other pages) goes straight to the network
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'skip-waiting') self.skipWaiting();
});
