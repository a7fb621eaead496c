// node --import <this file>: lets @modelcontextprotocol/conformance >= 0.1.14 load on Node 20,
// whose 'fs' lacks globSync (Node >= 22). The suite uses globSync only in `tier-check`.
import { register } from 'node:module';
register('./hooks.mjs', import.meta.url);
