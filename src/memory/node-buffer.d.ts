/** The one use of node:buffer (nodejs_compat) here: postgres.js parses what its socket reads as Buffers. */
declare module "node:buffer" {
  export const Buffer: { from(bytes: Uint8Array): Uint8Array };
}
