#!/usr/bin/env node
// The `gigafactory` command. The sources are TypeScript; tsx compiles them on load, so there is no
// build step between `npm ci` and a working CLI.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
