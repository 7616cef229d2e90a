import { z } from "zod";

/**
 * Topic names and topic patterns.
 *
 * A topic is dot-separated segments, such as `mirror.intent`. A segment is 1 to 64 characters
 * of `A-Z a-z 0-9 _ -`, so `..`, empty segments, leading or trailing dots, whitespace, control
 * characters and anything that would need escaping in a URL path or a socket tag are refused.
 *
 * A pattern is a topic in which whole segments may be wildcards, never parts of one:
 * - `*` matches exactly one segment (`mirror.*` matches `mirror.intent`, not `mirror.a.b`);
 * - `>`, only as the last segment, matches one or more segments (`mirror.>` matches
 *   `mirror.intent` and `mirror.a.b`, not `mirror` itself; a lone `>` matches every topic).
 */
export const TOPIC_MAX_LENGTH = 128;
export const TOPIC_MAX_SEGMENTS = 8;

const SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;

function shapeProblem(value: string, what: string): string | undefined {
  if (value.length === 0) return `a ${what} may not be empty`;
  if (value.length > TOPIC_MAX_LENGTH) return `a ${what} is at most ${TOPIC_MAX_LENGTH} characters`;
  if (value.split(".").length > TOPIC_MAX_SEGMENTS) return `a ${what} has at most ${TOPIC_MAX_SEGMENTS} segments`;
  return undefined;
}

/** Why `name` is not a valid topic, or undefined when it is. */
export function topicNameProblem(name: string): string | undefined {
  const problem = shapeProblem(name, "topic");
  if (problem) return problem;
  if (!name.split(".").every((segment) => SEGMENT.test(segment))) {
    return "a topic is dot-separated segments of A-Z, a-z, 0-9, _ and - (no empty segments, no wildcards)";
  }
  return undefined;
}

/** Why `pattern` is not a valid topic pattern, or undefined when it is. */
export function topicPatternProblem(pattern: string): string | undefined {
  const problem = shapeProblem(pattern, "topic pattern");
  if (problem) return problem;
  const segments = pattern.split(".");
  for (const [index, segment] of segments.entries()) {
    if (segment === ">" && index !== segments.length - 1) return "`>` may only be the last segment of a pattern";
    if (segment !== "*" && segment !== ">" && !SEGMENT.test(segment)) {
      return "a pattern is dot-separated segments, each a name or a whole-segment wildcard (`*` or a final `>`)";
    }
  }
  return undefined;
}

/** Whether `name` is a valid (concrete, wildcard-free) topic. */
export const isTopicName = (name: string): boolean => topicNameProblem(name) === undefined;

/** Whether `pattern` matches the (already valid) topic `topic`. */
export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern === topic) return true;
  const wanted = pattern.split(".");
  const actual = topic.split(".");
  for (const [index, segment] of wanted.entries()) {
    if (segment === ">") return actual.length > index;
    if (index >= actual.length) return false;
    if (segment !== "*" && segment !== actual[index]) return false;
  }
  return wanted.length === actual.length;
}

/** A topic pattern in a schema (config tables, request bodies, token claims). */
export const TopicPatternSchema = z.string().superRefine((value, context) => {
  const problem = topicPatternProblem(value);
  if (problem) context.addIssue({ code: "custom", message: problem });
});
