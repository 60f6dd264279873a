// Rewrite the generated table of docs/privacy.md from the step registry (run after `npm run build`).
import { readFileSync, writeFileSync } from "node:fs";
import { withPrivacyTable } from "../dist/reports/privacyTable.js";

const file = new URL("../docs/privacy.md", import.meta.url);
writeFileSync(file, withPrivacyTable(readFileSync(file, "utf8")));
