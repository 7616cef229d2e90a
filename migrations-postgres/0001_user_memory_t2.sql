-- User memory (issue 14): one row per item, the caller's own only. Idempotent, so it can be re-run:
-- `psql "$DATABASE_URL" -f migrations-postgres/0001_user_memory_t2.sql` in production, and at every
-- start by the local launcher (scripts/memory-db.mjs) and the tests.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE IF NOT EXISTS user_memory_t2 (
  id uuid PRIMARY KEY,
  user_id text NOT NULL,
  -- `preferences`: the structured preferences (one row per user, `preferences` holds them);
  -- `text`: a text memory.
  kind text NOT NULL CHECK (kind IN ('preferences', 'text')),
  -- What was embedded: the text memory, or a text rendering of the preferences.
  content text NOT NULL,
  preferences jsonb,
  -- bge-small-en-v1.5 (Workers AI) in production; the deterministic local embedder elsewhere.
  embedding vector(384) NOT NULL,
  embedding_model text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'preferences') = (preferences IS NOT NULL))
);

-- At most one preferences row per user: the upsert's conflict target.
CREATE UNIQUE INDEX IF NOT EXISTS user_memory_t2_preferences ON user_memory_t2 (user_id) WHERE kind = 'preferences';
-- Listing, counting and deleting a user's items.
CREATE INDEX IF NOT EXISTS user_memory_t2_user ON user_memory_t2 (user_id, created_at DESC);
-- Nearest neighbours by cosine distance (`<=>`). A search filters on user_id: while a user's items are
-- few (at most 500) the planner takes user_memory_t2_user and sorts them exactly; where it takes this
-- index instead, the search runs with hnsw.iterative_scan = strict_order (pgvector 0.8), so the scan
-- never comes back short because other users' rows were nearer.
CREATE INDEX IF NOT EXISTS user_memory_t2_embedding ON user_memory_t2 USING hnsw (embedding vector_cosine_ops);
