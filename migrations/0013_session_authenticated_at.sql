ALTER TABLE `sessions` ADD `authenticated_at` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- A session started before this column existed was authenticated when it was created.
UPDATE `sessions` SET `authenticated_at` = `created_at`;
