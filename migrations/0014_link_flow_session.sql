-- The session that started a link flow: the callback links nothing once it has ended. ON DELETE
-- cascade as in the schema (drizzle-kit leaves it out of ADD COLUMN), so pruning a session cannot fail on a stale flow.
ALTER TABLE `oauth_flows` ADD `link_session_id` text REFERENCES sessions(id) ON DELETE cascade;
