import { describe, expect, it } from "vitest";
import { isTopicName, topicMatches, topicNameProblem, topicPatternProblem } from "../../src/mesh/topics";

describe("topic names", () => {
  it.each(["mirror", "mirror.intent", "a.b.c.d.e.f.g.h", "Node_1-x.UPPER", `m.${"x".repeat(64)}`])("accepts %s", (name) => {
    expect(topicNameProblem(name)).toBeUndefined();
    expect(isTopicName(name)).toBe(true);
  });

  it.each([
    ["", "may not be empty"],
    ["mirror..intent", "no empty segments"],
    [".mirror", "no empty segments"],
    ["mirror.", "no empty segments"],
    ["mirror.*", "no wildcards"],
    ["mirror.>", "no wildcards"],
    ["mirror.in*", "no wildcards"],
    ["mirror.\u0000", "no empty segments"],
    ["mirror.\n", "no empty segments"],
    ["mirror intent", "no empty segments"],
    ["mirror/intent", "no empty segments"],
    ["mirrör", "no empty segments"],
    ["a.b.c.d.e.f.g.h.i", "at most 8 segments"],
    [`m.${"x".repeat(65)}`, "no empty segments"],
    ["x".repeat(129), "at most 128 characters"],
  ])("refuses %j", (name, problem) => {
    expect(topicNameProblem(name)).toContain(problem);
    expect(isTopicName(name)).toBe(false);
  });
});

describe("topic patterns", () => {
  it.each(["mirror.intent", "mirror.*", "*.intent", "mirror.>", ">", "*", "a.*.c.>"])("accepts %s", (pattern) => {
    expect(topicPatternProblem(pattern)).toBeUndefined();
  });

  it.each([
    ["mirror.>.x", "may only be the last segment"],
    [">.x", "may only be the last segment"],
    ["mirror.in*", "whole-segment wildcard"],
    ["mirror.**", "whole-segment wildcard"],
    ["mirror.>>", "whole-segment wildcard"],
    ["mirror..x", "whole-segment wildcard"],
    ["", "may not be empty"],
    ["mirror.\u0007", "whole-segment wildcard"],
  ])("refuses %j", (pattern, problem) => {
    expect(topicPatternProblem(pattern)).toContain(problem);
  });
});

describe("topicMatches", () => {
  it.each([
    ["mirror.intent", "mirror.intent", true],
    ["mirror.intent", "mirror.intents", false],
    ["mirror.intent", "mirror", false],
    ["mirror.*", "mirror.intent", true],
    ["mirror.*", "mirror", false],
    ["mirror.*", "mirror.a.b", false],
    ["*.intent", "mirror.intent", true],
    ["*.intent", "mirror.update", false],
    ["mirror.>", "mirror.intent", true],
    ["mirror.>", "mirror.a.b.c", true],
    ["mirror.>", "mirror", false],
    ["mirror.>", "mirrors.x", false],
    [">", "anything.at.all", true],
    [">", "one", true],
    ["*", "one", true],
    ["*", "one.two", false],
    ["a.*.c.>", "a.b.c.d", true],
    ["a.*.c.>", "a.b.c", false],
    ["a.*.c.>", "a.b.x.d", false],
  ])("%s matches %s: %s", (pattern, topic, expected) => {
    expect(topicMatches(pattern, topic)).toBe(expected);
  });
});
