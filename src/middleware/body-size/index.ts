import { bodyLimit } from "hono/body-limit";
import { ApiError } from "../../errors";

/** Refuses bodies over `maxBytes` with 413, whether or not Content-Length was sent. */
export function bodySize(maxBytes: number) {
  if (!Number.isInteger(maxBytes) || maxBytes <= 0) throw new TypeError("bodySize: maxBytes must be a positive integer");
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ApiError("payload_too_large", `The request body may be at most ${maxBytes} bytes.`);
    },
  });
}
