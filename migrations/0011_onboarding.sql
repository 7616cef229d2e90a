CREATE TABLE `onboarding_stages` (
	`user_id` text NOT NULL,
	`stage` text NOT NULL,
	`data` text NOT NULL,
	`api_key_id` text,
	`saved_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `stage`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
