// No Worker imports here: the workerd and the e2e metrics tests read scrapes with this module.

/** Every sample of a Prometheus text exposition, by series (name and labels, as written). */
export function parseSamples(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** How much `series` grew between two scrapes (a series not yet there counts as 0). */
export const delta = (before: Map<string, number>, after: Map<string, number>, series: string) =>
  (after.get(series) ?? 0) - (before.get(series) ?? 0);
