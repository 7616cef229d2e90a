import { getTableName, is } from "drizzle-orm";
import { SQLiteTable } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import api from "../../docs/api.md?raw";
import clients from "../../docs/clients.md?raw";
import configuration from "../../docs/configuration.md?raw";
import storage from "../../docs/storage.md?raw";
import { kvKeys } from "../../src/db/kv-keys";
import * as schema from "../../src/db/schema";
import wranglerToml from "../../wrangler.toml?raw";
import { registerUser } from "../support/accounts";
import { requestPqcToken } from "../support/pqc";

/**
 * The reference tables of docs/ against the code they describe, so that a table, binding or key
 * added on one side without the other fails here (route-credentials.test.ts does the same for the
 * credential table, account-security-docs.test.ts for the error codes).
 */

/** The text of one `## ` section of a docs file. */
function section(doc: string, heading: string): string {
  const start = doc.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const end = doc.indexOf("\n## ", start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

/** The first cells of a Markdown table's rows, without backticks, after the row that starts with `header`. */
function firstColumn(text: string, header: string): string[] {
  const start = text.indexOf(`| ${header} |`);
  if (start < 0) throw new Error(`no table headed ${header}`);
  const rows = text.slice(start).split("\n\n")[0]!.split("\n").slice(2);
  return rows.map((row) => row.split("|")[1]!.trim().replaceAll("`", ""));
}

describe("docs/storage.md", () => {
  it("lists every D1 table of src/db/schema/, and no other", () => {
    const tables = Object.values(schema)
      .filter((value) => is(value, SQLiteTable))
      .map((table) => getTableName(table as SQLiteTable))
      .sort();
    expect(
      firstColumn(storage, "table")
        .filter((name) => name !== "user_memory_t2")
        .sort(),
    ).toEqual(tables);
  });

  it("lists every KV key the Worker writes, and no other", () => {
    const keys = Object.values(kvKeys).map((key) => (typeof key === "function" ? key("<kid>") : key));
    expect(firstColumn(storage, "prefix").sort()).toEqual(keys.sort());
  });

  it("names every Durable Object class of wrangler.toml", () => {
    const classes = [...wranglerToml.matchAll(/^class_name = "(\w+)"/gm)].map((match) => match[1]!);
    expect(classes.length).toBeGreaterThan(0);
    for (const name of new Set(classes)) expect(storage, name).toContain(`\`${name}\``);
  });
});

describe("docs/configuration.md Bindings and secrets", () => {
  const bindings = section(configuration, "Bindings and secrets");

  it("has a row for every binding and var that wrangler.toml declares, in any environment", () => {
    const bindingNames = [...wranglerToml.matchAll(/^(?:binding|name) = "([A-Z][A-Z0-9_]*)"/gm)].map((match) => match[1]!);
    const varBlocks = [...wranglerToml.matchAll(/^\[(?:env\.\w+\.)?vars\]\n([\s\S]*?)(?=^\[)/gm)].map((match) => match[1]!);
    const varNames = varBlocks.flatMap((block) => [...block.matchAll(/^([A-Z][A-Z0-9_]*) =/gm)].map((match) => match[1]!));
    expect(varNames).toContain("ISSUER");
    for (const name of new Set([...bindingNames, ...varNames])) {
      expect(bindings, `${name} is declared in wrangler.toml but not documented`).toMatch(new RegExp(`^\\|[^\\n]*\`${name}\``, "m"));
    }
  });
});

describe("sizes the docs state", () => {
  it("a PQC token is as large as the docs say, everywhere they say so", async () => {
    const user = await registerUser();
    const issued = await requestPqcToken({ service: "headyme", operation: "sync" }, { token: user.accessToken });
    expect(issued.status).toBe(200);
    const kilobytes = Math.round(issued.body.pqcToken.length / 1000);
    // Every size those two sections state is a PQC token's.
    const text = section(api, "Tokens and credentials") + section(clients, "The PQC client");
    const stated = [...text.matchAll(/(\d+(?:\.\d+)?) KB/g)].map((match) => Number(match[1]));
    expect(stated.length).toBeGreaterThanOrEqual(2);
    for (const size of stated) expect(size).toBe(kilobytes);
  });
});
