CREATE TABLE `pqc_references` (
	`reference_hash` text PRIMARY KEY NOT NULL,
	`token` text NOT NULL,
	`jti` text NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `pqc_references_expires_idx` ON `pqc_references` (`expires_at`);