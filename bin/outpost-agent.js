#!/usr/bin/env node
import '../dist/agent/small-heap.js';

// Loaded after the heap settings above, which apply only to what comes later.
const { main } = await import('../dist/agent/main.js');
await main();
