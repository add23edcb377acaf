#!/usr/bin/env node
// The joinery command: a stable entry point that exists before the TypeScript build (npm links
// it at install time); the CLI itself is compiled to dist/ by `npm install` (prepare) or `npm run build`.
require('../dist/cli/main.js');
