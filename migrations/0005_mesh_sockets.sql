-- PulseMesh: one row per open socket (replacing one per node and topic), so that a node's sockets
-- can be capped across topics with a conditional insert, and a revocation still finds the topics.
CREATE TABLE `mesh_sockets` (
	`socket_id` text PRIMARY KEY NOT NULL,
	`node_id` text NOT NULL,
	`topic` text NOT NULL,
	`connected_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `mesh_sockets_node_idx` ON `mesh_sockets` (`node_id`,`expires_at`);--> statement-breakpoint
CREATE INDEX `mesh_sockets_expiry_idx` ON `mesh_sockets` (`expires_at`);--> statement-breakpoint
DROP TABLE `mesh_connections`;