#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/cli by `npm run build`.
import "../dist/src/cli/main.js";
