ALTER TABLE `mfa_challenges` ADD `first_amr` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `sessions` ADD `amr` text DEFAULT '[]' NOT NULL;