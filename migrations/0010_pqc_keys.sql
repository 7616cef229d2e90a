CREATE TABLE `pqc_keys` (
	`kid` text PRIMARY KEY NOT NULL,
	`jwk` text NOT NULL,
	`published_at` integer NOT NULL,
	`retires_at` integer
);
