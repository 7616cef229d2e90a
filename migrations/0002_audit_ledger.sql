-- The audit trail becomes a hash chain sequenced by the AuditLedger Durable Object.
-- Rows written before the chain existed cannot be chained after the fact, and nothing has been
-- deployed with them, so the table is recreated rather than altered (SQLite cannot add NOT NULL
-- columns without a default).
CREATE TABLE `audit_outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`event` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
DROP TABLE `audit_events`;--> statement-breakpoint
CREATE TABLE `audit_events` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`type` text NOT NULL,
	`subject` text,
	`actor` text,
	`request_id` text,
	`ip` text,
	`user_agent` text,
	`details` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL,
	`receipt` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `audit_events_seq_unique` ON `audit_events` (`seq`);--> statement-breakpoint
CREATE INDEX `audit_events_subject_idx` ON `audit_events` (`subject`,`created_at`);--> statement-breakpoint
CREATE INDEX `audit_events_type_idx` ON `audit_events` (`type`,`created_at`);
