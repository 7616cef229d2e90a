import { describe, expect, it } from "vitest";
import {
  isMeshRole,
  MeshRoleTopicsSchema,
  nodePermissions,
  PERMISSIONS_MAX_BYTES,
  permissionsSize,
  type TopicPermissions,
  topicAccess,
} from "../../src/mesh/permissions";
import { testConfig } from "../support/config";

const permissions = (partial: Partial<TopicPermissions>): TopicPermissions => ({ allow: [], listen: [], deny: [], ...partial });

describe("topicAccess", () => {
  it("grants emit for allow, listen for listen, none otherwise", () => {
    const p = permissions({ allow: ["mirror.intent"], listen: ["mirror.>"] });
    expect(topicAccess(p, "mirror.intent")).toBe("emit");
    expect(topicAccess(p, "mirror.update")).toBe("listen");
    expect(topicAccess(p, "reasoner.reply")).toBe("none");
  });

  it("lets deny win over both allow and listen, however specific they are", () => {
    const p = permissions({ allow: ["mirror.intent", ">"], listen: ["mirror.>"], deny: ["mirror.*"] });
    expect(topicAccess(p, "mirror.intent")).toBe("none");
    expect(topicAccess(p, "mirror.a.b")).toBe("emit");
    expect(topicAccess(p, "other")).toBe("emit");
  });

  it("gives nothing to empty permissions (deny by default)", () => {
    expect(topicAccess(permissions({}), "mirror.intent")).toBe("none");
  });
});

describe("nodePermissions", () => {
  const defaults = permissions({ allow: ["mirror.intent"], listen: ["mirror.>"], deny: ["mirror.secret"] });

  it("is the role's defaults when nothing is custom", () => {
    expect(nodePermissions(defaults)).toEqual(defaults);
  });

  it("adds custom allow and listen, and narrows with custom deny, without duplicates", () => {
    const result = nodePermissions(defaults, { allow: ["lab.>", "mirror.intent"], listen: ["scribe.*"], deny: ["mirror.update"] });
    expect(result).toEqual({
      allow: ["mirror.intent", "lab.>"],
      listen: ["mirror.>", "scribe.*"],
      deny: ["mirror.secret", "mirror.update"],
    });
    expect(topicAccess(result, "mirror.update")).toBe("none");
    expect(topicAccess(result, "lab.x.y")).toBe("emit");
  });

  it("does not change the defaults it was given", () => {
    nodePermissions(defaults, { allow: ["lab.>"] });
    expect(defaults.allow).toEqual(["mirror.intent"]);
  });
});

describe("MESH_ROLE_TOPICS", () => {
  it("configures all five roles in wrangler.toml", () => {
    const table = testConfig().mesh.roleTopics;
    expect(Object.keys(table).sort()).toEqual(["governor", "hermes", "reasoner", "scribe", "ui"]);
    expect(topicAccess(table.ui, "mirror.intent")).toBe("emit");
    expect(topicAccess(table.ui, "mirror.anything")).toBe("listen");
    expect(topicAccess(table.hermes, "governor.decision")).toBe("none");
  });

  it("requires every role and refuses unknown members and bad patterns", () => {
    const valid = Object.fromEntries(["ui", "reasoner", "governor", "scribe", "hermes"].map((role) => [role, { allow: ["x"] }]));
    expect(MeshRoleTopicsSchema.safeParse(valid).success).toBe(true);
    const { ui: _, ...missing } = valid;
    expect(MeshRoleTopicsSchema.safeParse(missing).success).toBe(false);
    expect(MeshRoleTopicsSchema.safeParse({ ...valid, emperor: {} }).success).toBe(false);
    expect(MeshRoleTopicsSchema.safeParse({ ...valid, ui: { allow: ["mirror.in*"] } }).success).toBe(false);
    expect(MeshRoleTopicsSchema.safeParse({ ...valid, ui: { alow: ["mirror.>"] } }).success).toBe(false);
  });

  it("refuses a role whose patterns would not fit in a socket attachment", () => {
    const big = Array.from({ length: 32 }, (_, i) => `area${i}.${"x".repeat(50)}`);
    expect(permissionsSize(permissions({ allow: big }))).toBeGreaterThan(PERMISSIONS_MAX_BYTES);
    const table = Object.fromEntries(
      ["ui", "reasoner", "governor", "scribe", "hermes"].map((role) => [role, { allow: role === "ui" ? big : [] }]),
    );
    expect(MeshRoleTopicsSchema.safeParse(table).success).toBe(false);
  });
});

describe("isMeshRole", () => {
  it("knows the five node roles and nothing else", () => {
    for (const role of ["ui", "reasoner", "governor", "scribe", "hermes"]) expect(isMeshRole(role)).toBe(true);
    for (const other of ["admin", "operator", "", "UI", 1, null]) expect(isMeshRole(other)).toBe(false);
  });
});
