-- A sign-in ticket may stand for a user whose second factor is still due (no session yet): session_id
-- becomes nullable and user_id is added. Nothing references sign_in_tickets, so the table is rebuilt
-- without switching foreign keys off (drizzle-kit's copy also selected the new column from the old table).
CREATE TABLE `__new_sign_in_tickets` (
	`ticket_hash` text PRIMARY KEY NOT NULL,
	`session_id` text,
	`user_id` text,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`session_id`) REFERENCES `sessions`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_sign_in_tickets`("ticket_hash", "session_id", "user_id", "expires_at") SELECT "ticket_hash", "session_id", NULL, "expires_at" FROM `sign_in_tickets`;--> statement-breakpoint
DROP TABLE `sign_in_tickets`;--> statement-breakpoint
ALTER TABLE `__new_sign_in_tickets` RENAME TO `sign_in_tickets`;
