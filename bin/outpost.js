#!/usr/bin/env node
import { main } from '../dist/cli/outpost.js';

await main();
