import { describe, expect, it } from "vitest";
import { findServiceOperation, PqcServicesSchema } from "../../src/pqc/services";

const services = PqcServicesSchema.parse({
  headyme: { serviceId: "svc-headyme", endpoint: "https://me.heady.test/api", operations: { sync: ["sync:read"] } },
});

describe("findServiceOperation: own keys only", () => {
  it("finds a configured service operation and its permissions", () => {
    expect(findServiceOperation(services, "headyme", "sync")).toEqual({ service: services.headyme, permissions: ["sync:read"] });
  });

  it.each(["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf"])(
    "%s names neither a service nor an operation",
    (name) => {
      expect(findServiceOperation(services, name, "sync")).toBeUndefined();
      expect(findServiceOperation(services, "headyme", name)).toBeUndefined();
    },
  );
});
