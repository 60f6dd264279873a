import { describe, expect, it } from "vitest";
import { InputError, listForMessage, quote, unreadableFile } from "../../src/io/errors.js";

describe("InputError", () => {
  it("is an Error with its own name and the given message", () => {
    const error = new InputError("counts.csv: line 3: empty gene id");
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(InputError);
    expect(error.name).toBe("InputError");
    expect(error.message).toBe("counts.csv: line 3: empty gene id");
  });

  it("keeps a cause", () => {
    const cause = new Error("low level");
    expect(new InputError("x", { cause }).cause).toBe(cause);
  });
});

describe("message helpers", () => {
  it("quote shows empty strings and shortens long values", () => {
    expect(quote("")).toBe('""');
    expect(quote("a b")).toBe('"a b"');
    expect(quote("x".repeat(50), 10)).toBe(`"${"x".repeat(9)}…"`);
  });

  it("listForMessage joins with 'and' and elides long lists", () => {
    expect(listForMessage([])).toBe("(none)");
    expect(listForMessage(["a"])).toBe("a");
    expect(listForMessage(["a", "b", "c"])).toBe("a, b and c");
    expect(listForMessage(["a", "b", "c", "d"], 2)).toBe("a, b and 2 more");
  });

  it("unreadableFile explains common file-system errors", () => {
    const enoent = Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT" });
    expect(unreadableFile("x.csv", enoent).message).toBe("cannot read x.csv: no such file");
    const other = Object.assign(new Error("boom"), { code: "EIO" });
    expect(unreadableFile("x.csv", other).message).toBe("cannot read x.csv: EIO");
  });
});
