/**
 * `import accountScript from "./client/account.ts?script"`: that browser module, bundled with what it
 * imports, as the text of one inline script (compiled by scripts/build/page-scripts.ts, for the Worker
 * bundle and for the workerd tests alike).
 */
declare module "*?script" {
  const script: string;
  export default script;
}
