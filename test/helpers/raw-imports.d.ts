/** Vite's `?raw` imports: the file's text (used to check the README against the code). */
declare module "*?raw" {
  const text: string;
  export default text;
}
