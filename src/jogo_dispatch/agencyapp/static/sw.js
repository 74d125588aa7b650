/* Jogo agency portal: service worker. Served by /agency/sw.js with the placeholders filled in by the server.
 *
 * The page shell is cached at install, so the portal opens with no network (it then says it is offline and
 * reconnects by itself). The page is network-first (a release shows at once when online), the shell files
 * cache-first (their cache name changes with every release). The API and the websocket are never touched.
 */
'use strict';

const CACHE = '{{CACHE_NAME}}';
const SHELL = {{SHELL_JSON}};
const PAGE = {{PAGE_PATH}};
const PREFIX = 'jogo-agency-';
const SHELL_SET = new Set(SHELL.map((u) => new URL(u, self.location.origin).href));

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SHELL.map((u) => new Request(u, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    // only this page's old caches: the phone app (/app) keeps its own on the same origin
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
  if (url.origin !== self.location.origin) return; // map tiles: the browser's own cache
  if (request.mode === 'navigate' && (url.pathname === PAGE || url.pathname === PAGE + '/')) {
    event.respondWith(pageFirst(request));
  } else if (SHELL_SET.has(url.origin + url.pathname)) {
    event.respondWith(shellFirst(request));
  }
});
