import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { STEP_NAMES } from "../../src/federation/registry.js";
import { privacyTable, withPrivacyTable } from "../../src/reports/privacyTable.js";
import { root } from "../helpers/shared.js";

it("docs/privacy.md's step table is the registry's (npm run docs regenerates it)", () => {
  const text = readFileSync(join(root, "docs", "privacy.md"), "utf8");
  expect(withPrivacyTable(text)).toBe(text);
  const table = privacyTable();
  for (const step of STEP_NAMES) expect(table).toContain(`| \`${step}\` |`);
});
