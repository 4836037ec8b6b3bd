"""The anonymous page cache: lists, paper pages, feeds and API reads, rendered once and served to every visitor who
is not signed in, until something they show changes.

- What is cached (`pages.SHARED_ROUTES`): GET and HEAD of public routes, for requests with no session or messages
  cookie and no Authorization header; only 200 answers that set no cookie and did not ask for privacy.
- Where: a small LRU in each web process, in front of the site's cache (PAPERFEED_CACHE_URL; the database's cache
  table by default), which every process on every machine shares.
- Invalidation: database triggers (`changes.py`) append a row to a change log whenever a table that public pages
  show is written, by any path: ORM, bulk loads, raw SQL, the admin. Votes and comments go to a log by paper, and
  make stale only the cached pages that show or rank that paper (`pages.depends_on`); any other write makes every
  page stale. So a vote, a load, an edit or a moderator's action is seen by the very next request on every node.
  Time alone (trending's fading, "5 minutes ago") is bounded by PAPERFEED_CACHE_SECONDS; pages that do not show
  the clock are kept until a write changes them.
- HTTP: a strong ETag and Last-Modified answer conditional requests with 304; `Cache-Control: public, max-age=N,
  must-revalidate` (N = PAPERFEED_CACHE_MAX_AGE) lets a proxy or CDN share them; signed-in answers on these routes
  are `private, no-cache`.

The hit path runs at the WSGI level (`wsgi.py`), before Django builds a request; the middleware does the rest.
No app imports this package: writers need not know it exists.
"""
