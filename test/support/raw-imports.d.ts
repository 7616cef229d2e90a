/// <reference types="vite/types/importMeta.d.ts" />
/** Vite's `?raw` imports: the file's text (used to check README.md and docs/ against the code). */
declare module "*?raw" {
  const text: string;
  export default text;
}
