-- PulseMesh: node tokens SAGE issued (by jti), node revocations (revoked-before second), and
-- which topics each node has sockets in, so that a revocation reaches exactly those topic objects.
CREATE TABLE `mesh_connections` (
	`node_id` text NOT NULL,
	`topic` text NOT NULL,
	`connected_at` integer NOT NULL,
	PRIMARY KEY(`node_id`, `topic`)
);
--> statement-breakpoint
CREATE TABLE `mesh_node_revocations` (
	`node_id` text PRIMARY KEY NOT NULL,
	`revoked_before` integer NOT NULL,
	`revoked_by` text NOT NULL,
	`revoked_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `mesh_node_tokens` (
	`jti` text PRIMARY KEY NOT NULL,
	`node_id` text NOT NULL,
	`role` text NOT NULL,
	`issued_by` text NOT NULL,
	`issued_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE INDEX `mesh_node_tokens_node_idx` ON `mesh_node_tokens` (`node_id`,`issued_at`);